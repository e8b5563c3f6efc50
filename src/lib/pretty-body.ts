/**
 * A message body as a person reads it in a report: JSON and XML pretty-printed (by their libraries), form
 * parameters one a line, the rest as text — cut to the first 2 KiB, known secrets masked.
 */
import { fastXmlParser } from "./lazy-modules.js";
import { redactSecrets } from "../core/secrets.js";

/** How much of a body a report shows. */
export const shownBodyBytes = 2048;
/** Bodies above this are shown as they are, never parsed for pretty-printing. */
const prettyLimitBytes = 256 * 1024;

const xmlOptions = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "@_",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  commentPropName: "#comment",
  cdataPropName: "#cdata",
} as const;

function prettyJson(text: string): string | undefined {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return undefined;
  }
}

function prettyXml(text: string): string | undefined {
  const { XMLBuilder, XMLParser, XMLValidator } = fastXmlParser();
  if (XMLValidator.validate(text) !== true) return undefined;
  try {
    const tree: unknown = new XMLParser(xmlOptions).parse(text);
    return String(new XMLBuilder({ ...xmlOptions, format: true, indentBy: "  ", suppressEmptyNode: true }).build(tree)).trim();
  } catch {
    return undefined;
  }
}

const isForm = (contentType: string | undefined) => /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "");

/** A form body's parameters, in order (a name sent twice keeps its last value). */
export function formParameters(body: Buffer, contentType: string | undefined): Record<string, string> | undefined {
  if (!isForm(contentType)) return undefined;
  return Object.fromEntries(new URLSearchParams(body.toString("utf8")));
}

/**
 * A text body pretty-printed when it is JSON, XML or a form (up to 256 KiB), else undefined: JSON and XML
 * by their libraries, form parameters one a line. `bytes` is the body's size.
 */
export function prettyText(text: string, bytes: number, contentType: string | undefined): string | undefined {
  if (bytes > prettyLimitBytes) return undefined;
  const trimmed = text.trimStart();
  if (isForm(contentType)) return [...new URLSearchParams(text)].map(([name, value]) => `${name}=${value}`).join("\n");
  if (/json/i.test(contentType ?? "") || trimmed.startsWith("{") || trimmed.startsWith("[")) return prettyJson(text);
  if (/xml/i.test(contentType ?? "") || trimmed.startsWith("<")) return prettyXml(text);
  return undefined;
}

/** The body for a report: pretty when it is JSON, XML or a form, cut to `shownBodyBytes` with a note of what was left out. */
export function showBody(body: Buffer, contentType: string | undefined): string {
  if (body.length === 0) return "";
  const text = body.toString("utf8");
  if (!Buffer.from(text, "utf8").equals(body)) return `(${body.length} bytes of binary data)`;
  const shown = (prettyText(text, body.length, contentType) ?? text).trimEnd();
  const cut = shown.length > shownBodyBytes ? `${shown.slice(0, shownBodyBytes)}\n… (${body.length} bytes in all)` : shown;
  return redactSecrets(cut);
}
