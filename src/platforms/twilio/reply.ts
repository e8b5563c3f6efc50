/**
 * A handler's reply as Twilio reads it (docs/platforms/twilio.md): TwiML for text/xml, application/xml and
 * text/html; audio is played and the call hung up; plain text is read aloud and the call hung up;
 * anything else is an application error. Status callbacks ignore the body.
 */
import { brotliDecompressSync, gunzipSync, inflateSync } from "node:zlib";
import { showValue } from "../../core/findings.js";
import type { HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { checkTwiml, parseTwimlXml, simulationWarnings, twimlActions, twimlDocument } from "./twiml.js";

const applicationError = 'Twilio plays "an application error has occurred" and hangs up';

/** Twilio asks for gzip; a handler (or its framework) may compress the reply. */
function decodedBody(reply: HttpReply): Buffer | string {
  const encoding = (reply.headers["content-encoding"] ?? "").trim().toLowerCase();
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return gunzipSync(reply.body);
    if (encoding === "deflate") return inflateSync(reply.body);
    if (encoding === "br") return brotliDecompressSync(reply.body);
  } catch (error) {
    return `content-encoding ${encoding}: the body does not decode (${(error as Error).message})`;
  }
  return reply.body;
}

export function parseTwilioReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  // Status callbacks and other fire-and-forget requests: Twilio ignores the body.
  if (!context.waits && !context.expectsActions) return result;
  const body = decodedBody(reply);
  if (typeof body === "string") {
    result.failures.push({ kind: "reply", path: "content-encoding", message: body });
    return result;
  }
  const contentType = (reply.headers["content-type"] ?? "").replace(/;.*$/s, "").trim().toLowerCase();
  const text = body.toString("utf8");
  if (contentType === "text/plain") {
    if (/^\s*(<\?xml|<Response\b)/.test(text)) {
      result.failures.push({
        kind: "reply",
        path: "content-type",
        message: `text/plain: Twilio would read this XML aloud and hang up; send TwiML as text/xml`,
      });
      return result;
    }
    // Twilio reads plain text aloud, then hangs up.
    result.warnings.push({
      kind: "reply",
      path: "content-type",
      message: "text/plain: Twilio reads the body aloud and hangs up (send TwiML as text/xml to do more)",
    });
    result.actions = [
      { type: "speak", path: "body", text: text.trim() },
      { type: "hangup", path: "body" },
    ];
    return result;
  }
  if (contentType.startsWith("audio/")) {
    result.warnings.push({ kind: "reply", path: "content-type", message: `${contentType}: Twilio plays the audio and hangs up` });
    result.actions = [
      { type: "play", path: "body", url: context.request.url.href },
      { type: "hangup", path: "body" },
    ];
    return result;
  }
  if (contentType !== "text/xml" && contentType !== "application/xml" && contentType !== "text/html") {
    result.failures.push({
      kind: "reply",
      path: "content-type",
      message: `expected TwiML as text/xml (or application/xml, text/html), got ${contentType ? showValue(contentType) : "none"}: Twilio reports error 12300 (invalid content-type) and ${applicationError.replace("Twilio ", "")}`,
    });
    return result;
  }
  if (text.trim() === "") {
    result.failures.push({
      kind: "reply",
      path: "body",
      message: `expected a TwiML <Response>, got an empty body (${reply.status}): Twilio reports error 12100 (document parse failure) and ${applicationError.replace("Twilio ", "")}`,
    });
    return result;
  }
  const parsed = parseTwimlXml(text);
  if (!parsed.ok) {
    result.failures.push({
      kind: "reply",
      path: "body",
      message: `${parsed.message}: Twilio reports error 12100 (document parse failure) and ${applicationError.replace("Twilio ", "")}`,
    });
    return result;
  }
  result.native = twimlDocument(parsed.root);
  const checked = checkTwiml(parsed.root);
  result.failures.push(...checked.failures);
  result.warnings.push(...checked.warnings);
  if (checked.failures.some((finding) => finding.kind === "schema" && finding.path === parsed.root.name)) return result;
  result.actions = twimlActions(parsed.root);
  result.warnings.push(...simulationWarnings(parsed.root));
  for (const action of result.actions) {
    // URLs Twilio fetches next, relative to the document's own URL.
    for (const [field, attribute] of [["action", "action"], ["connect_action", "action"], ...(action.type === "redirect" ? [["url", ""]] : [])] as const) {
      const value = action[field];
      if (typeof value === "string" && !URL.canParse(value, context.request.url.href)) {
        const path = attribute ? `${field === "connect_action" ? action.path.replace(/\/[^/]+$/, "") : action.path}@${attribute}` : action.path;
        result.failures.push({ kind: "schema", path, message: `expected a URL, got ${showValue(value)}: Twilio cannot fetch it` });
      }
    }
    const url = action.type === "stream" ? action["url"] : undefined;
    // Twilio opens media streams over WebSockets only (wss:// in production).
    if (action.type === "stream" && (typeof url !== "string" || !URL.canParse(url) || !/^wss?:$/.test(new URL(url).protocol))) {
      result.failures.push({
        kind: "schema",
        path: `${action.path}@url`,
        message: `expected a wss:// URL, got ${showValue(url ?? "nothing")}: Twilio cannot open the stream`,
      });
    }
  }
  return result;
}

/** A 3xx Twilio does not follow (error 11216), said under the failure. */
export function explainTwilioStatus(status: number): string | undefined {
  return status >= 300 && status < 400
    ? "Twilio error 11216: it follows only 301, 302, 303 and 307 with a Location header (twilio.com/docs/api/errors/11216)"
    : undefined;
}
