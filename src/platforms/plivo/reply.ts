/**
 * Reading a handler's Plivo XML (docs/platforms/plivo.md): a well-formed document whose root is <Response>, each
 * element one plivo-node knows, nested where plivo-node allows it, with only its valid attributes
 * (grammar.ts); then the rules the builder does not enforce — inputType values, GET/POST methods, URL
 * bodies, nothing after <Hangup> or <Redirect> — and the normalised actions of README: Platforms and caller scripts: Speak→speak,
 * Play→play, GetInput/GetDigits→listen (nested prompts first, barge_in), Stream→stream, Dial/Conference/
 * MultiPartyCall→transfer, Record→record, Wait→pause, Redirect→redirect, Hangup→hangup.
 */
import { showValue, type Finding } from "../../core/findings.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { allowedChildren, elementSpec, rootElement } from "./grammar.js";
import { readXml, xmlDocument, type XmlElement } from "../shared/xml-document.js";

const xmlContentType = /^(text\/xml|application\/xml|text\/html)\b/i;
const inputTypes = new Set(["dtmf", "speech", "dtmf speech", "speech dtmf"]);
const terminal = new Set(["Hangup", "Redirect"]);
// Attributes that hold a whole number of seconds or digits (Plivo refuses anything else).
const integerAttributes = new Set([
  "timeout",
  "digitTimeout",
  "numDigits",
  "retries",
  "executionTimeout",
  "maxLength",
  "length",
  "loop",
  "timeLimit",
  "confirmTimeout",
  "streamTimeout",
]);
// GetInput's end timeouts: "2 to 10, or auto" (default auto), https://www.plivo.com/docs/voice/xml/getinput
const endTimeoutAttributes = new Set(["digitEndTimeout", "speechEndTimeout"]);

const defined = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined && value !== ""));
const integer = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined);

/** The grammar of plivo-node: known elements, their nesting and attributes. */
function checkGrammar(element: XmlElement, parent: string, failures: Finding[]): void {
  const spec = elementSpec(element.name);
  if (!spec) {
    failures.push({ kind: "schema", path: element.path, message: `unknown element <${element.name}> (Plivo XML has ${rootElement.children.join(", ")})` });
    return;
  }
  const allowed = allowedChildren(parent);
  if (!allowed.includes(element.name)) {
    failures.push({
      kind: "schema",
      path: element.path,
      message: `<${element.name}> cannot be nested in <${parent}>${allowed.length ? ` (it takes ${allowed.join(", ")})` : " (it takes no elements)"}`,
    });
  }
  for (const name of Object.keys(element.attributes)) {
    if (!spec.attributes.includes(name)) {
      failures.push({
        kind: "schema",
        path: `${element.path}@${name}`,
        message: `not a valid attribute of <${element.name}>${spec.attributes.length ? ` (valid: ${spec.attributes.join(", ")})` : " (it has none)"}`,
      });
    }
  }
  for (const child of element.children) checkGrammar(child, element.name, failures);
}

function isUrl(value: string, protocols: readonly string[], base: URL): boolean {
  if (!URL.canParse(value, base.href)) return false;
  return protocols.includes(new URL(value, base).protocol);
}

/** Rules over attribute values and bodies. Assumes the grammar passed. */
function checkRules(element: XmlElement, base: URL, failures: Finding[], warnings: Finding[]): void {
  const rule = (path: string, message: string) => failures.push({ kind: "rule", path, message });
  for (const [name, value] of Object.entries(element.attributes)) {
    const at = `${element.path}@${name}`;
    if ((name === "method" || name.endsWith("Method")) && value !== "GET" && value !== "POST") rule(at, `expected GET or POST, got ${showValue(value)}`);
    if (integerAttributes.has(name) && !/^\d+$/.test(value)) rule(at, `expected a whole number, got ${showValue(value)}`);
    if (
      element.name === "GetInput" &&
      endTimeoutAttributes.has(name) &&
      value !== "auto" &&
      !(/^\d+$/.test(value) && Number(value) >= 2 && Number(value) <= 10)
    ) {
      rule(at, `expected a whole number from 2 to 10 or auto, got ${showValue(value)}`);
    }
    if ((name === "action" || name.endsWith("Url")) && !isUrl(value, ["http:", "https:"], base)) rule(at, `expected an http(s) URL, got ${showValue(value)}`);
  }
  if (element.name === "GetInput" && element.attributes["inputType"] !== undefined && !inputTypes.has(element.attributes["inputType"])) {
    rule(`${element.path}@inputType`, `expected dtmf, speech or "dtmf speech", got ${showValue(element.attributes["inputType"])}`);
  }
  if (element.name === "GetInput" && element.attributes["inputType"] === undefined)
    rule(`${element.path}@inputType`, 'required: dtmf, speech or "dtmf speech"');
  if ((element.name === "Play" || element.name === "Redirect") && !isUrl(element.allText, ["http:", "https:"], base))
    rule(element.path, `expected an http(s) URL as the text, got ${showValue(element.allText)}`);
  if (element.name === "Stream" && !isUrl(element.allText, ["ws:", "wss:"], base))
    rule(element.path, `expected a ws(s) URL as the text, got ${showValue(element.allText)}`);
  if (element.name === "Speak" && element.allText === "") rule(element.path, "expected text to speak");
  if (element.name === "Dial" && !element.children.some((child) => child.name === "Number" || child.name === "User"))
    rule(element.path, "expected a <Number> or <User> to dial");
  // <Hangup schedule="N"> hangs up later and "should be followed by an element such as Speak"
  // (https://www.plivo.com/docs/voice/xml/hangup): only an immediate Hangup ends the document.
  const stop = element.children.findIndex((child) => terminal.has(child.name) && !(child.name === "Hangup" && child.attributes["schedule"] !== undefined));
  // Never reached, but Plivo runs the document (no source says it refuses it): a warning (issue 24).
  if (stop !== -1 && stop < element.children.length - 1) {
    warnings.push({
      kind: "rule",
      path: element.children[stop + 1]!.path,
      message: `unreachable: nothing runs after <${element.children[stop]!.name}> (${element.children[stop]!.path})`,
    });
  }
  for (const child of element.children) checkRules(child, base, failures, warnings);
}

function prompts(element: XmlElement): Action[] {
  return element.children.flatMap((child) =>
    normalise(child).map((action) => (action.type === "speak" || action.type === "play" ? { ...action, barge_in: true } : action)),
  );
}

/** The normalised actions of one element (README: Platforms and caller scripts); a listen brings its nested prompts first. */
export function normalise(element: XmlElement): Action[] {
  const path = element.path;
  const a = element.attributes;
  switch (element.name) {
    case "Speak":
      return [{ type: "speak", path, ...defined({ text: element.allText, voice: a["voice"], language: a["language"], loop: integer(a["loop"]) }) }];
    case "Play":
      return [{ type: "play", path, ...defined({ url: element.allText, loop: integer(a["loop"]) }) }];
    case "Wait":
      return [{ type: "pause", path, duration_ms: 1000 * (integer(a["length"]) ?? 1) }];
    case "GetInput":
      return [
        ...prompts(element),
        {
          type: "listen",
          path,
          ...defined({
            input: (a["inputType"] ?? "").split(" ").filter(Boolean),
            url: a["action"],
            method: a["method"],
            max_digits: integer(a["numDigits"]),
            language: a["language"],
            hints: a["hints"]?.split(","),
            redirect: a["redirect"] !== "false",
          }),
        },
      ];
    case "GetDigits":
      return [
        ...prompts(element),
        {
          type: "listen",
          path,
          ...defined({ input: ["dtmf"], url: a["action"], method: a["method"], max_digits: integer(a["numDigits"]), redirect: a["redirect"] !== "false" }),
        },
      ];
    case "Record":
      return [
        {
          type: "record",
          path,
          ...defined({ max_duration_s: integer(a["maxLength"]), beep: a["playBeep"] === undefined ? undefined : a["playBeep"] === "true", url: a["action"] }),
        },
      ];
    case "Dial": {
      const target = element.children.find((child) => child.name === "Number" || child.name === "User");
      return [{ type: "transfer", path, ...defined({ to: target?.allText, caller_id: a["callerId"], timeout_s: integer(a["timeout"]) }) }];
    }
    case "Conference":
    case "MultiPartyCall":
      return [{ type: "transfer", path, to: `${element.name === "Conference" ? "conference" : "mpc"}:${element.allText}` }];
    case "Redirect":
      return [{ type: "redirect", path, ...defined({ url: element.allText, method: a["method"] }) }];
    case "Hangup":
      return [{ type: "hangup", path, ...defined({ reason: a["reason"], schedule: integer(a["schedule"]) }) }];
    case "Stream":
      return [
        {
          type: "stream",
          path,
          ...defined({
            url: element.allText,
            bidirectional: a["bidirectional"],
            audio_track: a["audioTrack"],
            content_type: a["contentType"],
            keep_call_alive: a["keepCallAlive"],
          }),
        },
      ];
    case "PreAnswer":
      return element.children.flatMap(normalise);
    default:
      // DTMF and Message do not map onto a normalised action.
      return [];
  }
}

export function plivoActions(root: XmlElement): Action[] {
  return root.children.flatMap(normalise);
}

/** A callback's reply is ignored by Plivo: read what it tried to say, without judging its form. */
function ackActions(reply: HttpReply): Action[] {
  const parsed = readXml(reply.body.toString("utf8"));
  return parsed.ok && parsed.roots[0]?.name === rootElement.name ? plivoActions(parsed.roots[0]) : [];
}

export function parsePlivoReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  if (!context.waits && !context.expectsActions) {
    if (reply.body.length > 0) result.actions = ackActions(reply);
    return result;
  }
  if (reply.body.length === 0) {
    result.failures.push({ kind: "reply", path: "body", message: `expected Plivo XML (<Response>…</Response>), got an empty reply (${reply.status})` });
    return result;
  }
  const contentType = reply.headers["content-type"] ?? "";
  if (!xmlContentType.test(contentType)) {
    result.failures.push({
      kind: "reply",
      path: "content-type",
      message: `expected text/xml or application/xml, got ${contentType ? showValue(contentType) : "none"}`,
    });
    return result;
  }
  const parsed = readXml(reply.body.toString("utf8"));
  if (!parsed.ok) {
    result.failures.push({
      kind: "reply",
      path: parsed.line === undefined ? "body" : `${parsed.line}:${parsed.column}`,
      message: parsed.line === undefined ? parsed.message : `not well-formed XML (${parsed.message})`,
    });
    return result;
  }
  const [root, ...others] = parsed.roots;
  if (!root || root.name !== rootElement.name || others.length > 0) {
    result.failures.push({
      kind: "schema",
      path: root?.path ?? "body",
      message: `expected one <${rootElement.name}> root element, got ${parsed.roots.map((element) => `<${element.name}>`).join(", ") || "none"}`,
    });
    return result;
  }
  result.native = xmlDocument(root);
  if (Object.keys(root.attributes).length > 0)
    result.failures.push({ kind: "schema", path: `${root.path}@${Object.keys(root.attributes)[0]}`, message: `<${root.name}> takes no attributes` });
  for (const child of root.children) checkGrammar(child, root.name, result.failures);
  if (result.failures.length > 0) return result;
  checkRules(root, context.request.url, result.failures, result.warnings);
  result.actions = plivoActions(root);
  if (root.children.length === 0 && context.waits)
    result.failures.push({ kind: "schema", path: root.path, message: `expected at least one element: the platform waits after ${context.eventType}` });
  return result;
}
