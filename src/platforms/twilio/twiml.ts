/**
 * TwiML documents: parsed with fast-xml-parser (order preserved), checked against the grammar extracted
 * from twilio-node's VoiceResponse (verbs, nesting, attributes and their value types), and read as the
 * normalised actions of README: Platforms and caller scripts. Findings name element paths: `Response/Gather[1]@input`.
 */
import { readXml, xmlDocument, type XmlElement } from "../shared/xml-document.js";
import { showValue, type Finding } from "../../core/findings.js";
import type { Action } from "../types.js";
import { grammar, knownElementNames, type AttributeType, type ElementGrammar } from "./grammar.js";

/** A TwiML element: `text` is its own text, `allText` what it speaks with its SSML children. */
export type TwimlElement = XmlElement;

export type ParsedXml = { ok: true; root: TwimlElement } | { ok: false; message: string };

/** Well-formedness first (with line:column), then the tree: one root element. */
export function parseTwimlXml(text: string): ParsedXml {
  const read = readXml(text);
  if (!read.ok)
    return { ok: false, message: read.line === undefined ? read.message : `not well-formed XML at line ${read.line}:${read.column}: ${read.message}` };
  const [root, ...others] = read.roots;
  if (!root || others.length > 0) return { ok: false, message: `expected one root element, got ${read.roots.length}` };
  return { ok: true, root };
}

/** All the text an element speaks, SSML children included (`<Say>Hi <emphasis>there</emphasis></Say>`). */
export const spokenText = (element: TwimlElement): string => element.allText;

// ---- checking against the grammar ----

/** A table lookup that a reply cannot steer onto Object.prototype (`<constructor>`, `__proto__="…"`). */
const own = <T>(table: Record<string, T>, key: string): T | undefined => (Object.hasOwn(table, key) ? table[key] : undefined);

/** Enums this long are catalogues (voices, languages, ring tones) that grow faster than the SDK: a miss is a warning. */
const catalogueSize = 30;

function describeAllowed(type: AttributeType): string {
  if (type.type === "boolean") return "true or false";
  if (type.type === "number") return type.list ? "space-separated numbers" : "a number";
  const values = grammar.enums[type.enum ?? ""] ?? [];
  const shown =
    values.length > 12
      ? `${values.slice(0, 8).join(", ")}, … (${values.length} values)`
      : values.length > 1
        ? `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`
        : (values[0] ?? "");
  if (!type.list) return shown;
  if (values.length === 2) return `${values[0]}, ${values[1]} or ${JSON.stringify(values.join(" "))}`;
  return `one or more of ${shown}, space-separated`;
}

function valueProblem(value: string, type: AttributeType): boolean {
  const items = type.list ? value.trim().split(/\s+/) : [value];
  if (type.list && value.trim() === "") return true;
  switch (type.type) {
    case "string":
      return false;
    case "boolean":
      return !items.every((item) => item === "true" || item === "false");
    case "number":
      return !items.every((item) => /^-?\d+(\.\d+)?$/.test(item));
    case "enum": {
      const values = grammar.enums[type.enum ?? ""] ?? [];
      return !items.every((item) => values.includes(item));
    }
  }
}

// Twilio documents GET and POST as the only methods of its URL attributes; the SDK types them as string.
const isMethodAttribute = (name: string) => name === "method" || name.endsWith("Method");

function checkAttributes(element: TwimlElement, spec: ElementGrammar, failures: Finding[], warnings: Finding[]): void {
  for (const [name, value] of Object.entries(element.attributes)) {
    if (name === "xmlns" || name.startsWith("xmlns:")) continue;
    const path = `${element.path}@${name}`;
    const type = own(spec.attributes, name);
    if (!type) {
      if (spec.anyAttributes) continue;
      const caseMiss = Object.keys(spec.attributes).find((known) => known.toLowerCase() === name.toLowerCase());
      if (caseMiss) failures.push({ kind: "schema", path, message: `unknown attribute: TwiML is case-sensitive, did you mean ${caseMiss}?` });
      else
        warnings.push({
          kind: "schema",
          path,
          message: `not an attribute of <${element.name}> in ${grammar.source.package} ${grammar.source.version}'s VoiceResponse: Twilio ignores it (warning 12200)`,
        });
      continue;
    }
    if (type.type === "string" && isMethodAttribute(name)) {
      if (value !== "GET" && value !== "POST") failures.push({ kind: "schema", path, message: `expected GET or POST, got ${showValue(value)}` });
      continue;
    }
    if (!valueProblem(value, type)) continue;
    const finding: Finding = { kind: "schema", path, message: `expected ${describeAllowed(type)}, got ${showValue(value)}` };
    const catalogue = type.type === "enum" && (grammar.enums[type.enum ?? ""]?.length ?? 0) > catalogueSize;
    if (catalogue)
      warnings.push({ ...finding, message: `${finding.message} (not in ${grammar.source.package} ${grammar.source.version}'s list; newer values may exist)` });
    else failures.push(finding);
  }
}

/** Verbs after which Twilio never reads the rest of the document. */
const leavesDocument = new Set(["Hangup", "Redirect", "Reject"]);

function checkElement(element: TwimlElement, className: string, failures: Finding[], warnings: Finding[]): void {
  const spec = own(grammar.elements, className);
  if (!spec) return;
  checkAttributes(element, spec, failures, warnings);
  if (spec.text === "required" && !element.text && element.children.length === 0) {
    failures.push({
      kind: "schema",
      path: element.path,
      message: `<${element.name}> needs content (${element.name === "Play" ? "a URL" : "text"}): ${grammar.source.package} ${grammar.source.version} requires it`,
    });
  } else if (spec.text === "none" && element.text) {
    warnings.push({ kind: "schema", path: element.path, message: `<${element.name}> takes no text: Twilio ignores ${showValue(element.text)}` });
  }
  const allowed = Object.keys(spec.children);
  let leftAt: string | undefined;
  for (const child of element.children) {
    if (leftAt) {
      // Twilio's docs say such verbs are never reached, not that the document is refused: a warning (issue 24).
      warnings.push({ kind: "rule", path: child.path, message: `unreachable: Twilio leaves the document at ${leftAt}` });
      continue;
    }
    const childClass = own(spec.children, child.name);
    if (!childClass) {
      const caseMiss = allowed.find((name) => name.toLowerCase() === child.name.toLowerCase());
      const where = className === grammar.root.class ? "TwiML verb" : `child of <${element.name}>`;
      const message = caseMiss
        ? `<${child.name}> is not a ${where}: TwiML is case-sensitive, did you mean <${caseMiss}>?`
        : knownElementNames.has(child.name)
          ? `<${child.name}> is not allowed inside <${element.name}> (${allowed.length ? `it takes ${allowed.join(", ")}` : "it takes no elements"})`
          : `<${child.name}> is not a ${where} (${allowed.length ? `expected one of ${allowed.join(", ")}` : "it takes no elements"})`;
      failures.push({ kind: "schema", path: child.path, message });
      continue;
    }
    checkElement(child, childClass, failures, warnings);
    if (className === grammar.root.class && leavesDocument.has(child.name)) leftAt = child.path;
  }
}

export function checkTwiml(root: TwimlElement): { failures: Finding[]; warnings: Finding[] } {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  if (root.name !== grammar.root.element) {
    failures.push({
      kind: "schema",
      path: root.name,
      message: `expected a <${grammar.root.element}> root element, got <${root.name}>: Twilio answers with an application error (12100)`,
    });
    return { failures, warnings };
  }
  checkElement(root, grammar.root.class, failures, warnings);
  return { failures, warnings };
}

// ---- normalised actions ----

const numberAttribute = (element: TwimlElement, name: string): number | undefined => {
  const value = element.attributes[name];
  return value !== undefined && /^\d+(\.\d+)?$/.test(value) ? Number(value) : undefined;
};

function defined(fields: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
}

function promptAction(element: TwimlElement, bargeIn: boolean | undefined): Action | undefined {
  const extra = bargeIn === undefined ? {} : { barge_in: bargeIn };
  const loop = numberAttribute(element, "loop");
  if (element.name === "Say") {
    return {
      type: "speak",
      path: element.path,
      ...defined({ text: spokenText(element), voice: element.attributes["voice"], language: element.attributes["language"], loop }),
      ...extra,
    };
  }
  if (element.name === "Play")
    return { type: "play", path: element.path, ...defined({ url: element.text || undefined, digits: element.attributes["digits"], loop }), ...extra };
  if (element.name === "Pause") return { type: "pause", path: element.path, duration_ms: (numberAttribute(element, "length") ?? 1) * 1000 };
  return undefined;
}

/** The first party a <Dial> calls: its text, or the first noun's (Number, Sip, Client, Conference, Queue…). */
function dialTarget(dial: TwimlElement): string | undefined {
  if (dial.text) return dial.text;
  const nouns = grammar.elements["Dial"]?.children ?? {};
  const noun = dial.children.find((child) => Object.hasOwn(nouns, child.name));
  if (!noun) return undefined;
  return noun.text || noun.children.find((child) => child.name === "Identity")?.text || undefined;
}

function streamAction(connect: TwimlElement, child: TwimlElement): Action | undefined {
  const parameters: Record<string, string> = {};
  for (const parameter of child.children.filter((item) => item.name === "Parameter")) {
    const name = parameter.attributes["name"];
    if (name !== undefined) parameters[name] = parameter.attributes["value"] ?? "";
  }
  const common = { path: child.path, url: child.attributes["url"], connect_action: connect.attributes["action"], connect_method: connect.attributes["method"] };
  if (child.name === "Stream")
    return { type: "stream", ...defined({ ...common, protocol: "twilio-media", track: child.attributes["track"], parameters }) } as Action;
  if (child.name === "ConversationRelay") {
    // The attributes configure the session; only the <Parameter>s reach the agent as setup.customParameters.
    const { url: _url, ...settings } = child.attributes;
    return { type: "stream", ...defined({ ...common, protocol: "twilio-relay", parameters, settings }) } as Action;
  }
  return undefined;
}

/** What the platform will do with the document, in order (README: Platforms and caller scripts); verbs after a Hangup/Redirect/Reject are left out. */
export function twimlActions(root: TwimlElement): Action[] {
  const actions: Action[] = [];
  for (const verb of root.children) {
    const { attributes: a, path } = verb;
    switch (verb.name) {
      case "Say":
      case "Play":
      case "Pause": {
        const action = promptAction(verb, undefined);
        if (action) actions.push(action);
        break;
      }
      case "Gather": {
        const bargeIn = a["bargeIn"] !== "false";
        for (const prompt of verb.children) {
          const action = promptAction(prompt, bargeIn);
          if (action) actions.push(action);
        }
        actions.push({
          type: "listen",
          path,
          input: (a["input"] ?? "dtmf").trim().split(/\s+/),
          ...defined({
            action: a["action"],
            method: a["method"],
            timeout_s: numberAttribute(verb, "timeout"),
            num_digits: numberAttribute(verb, "numDigits"),
            finish_on_key: a["finishOnKey"],
            speech_timeout: a["speechTimeout"],
            action_on_empty_result: a["actionOnEmptyResult"] === "true" ? true : undefined,
          }),
        });
        break;
      }
      case "Dial":
        actions.push({
          type: "transfer",
          path,
          ...defined({ to: dialTarget(verb), action: a["action"], method: a["method"], caller_id: a["callerId"], timeout_s: numberAttribute(verb, "timeout") }),
        });
        break;
      case "Record":
        actions.push({
          type: "record",
          path,
          ...defined({
            action: a["action"],
            method: a["method"],
            max_duration_s: numberAttribute(verb, "maxLength"),
            timeout_s: numberAttribute(verb, "timeout"),
            finish_on_key: a["finishOnKey"],
            play_beep: a["playBeep"] !== "false",
            // A transcribeCallback implies transcribe="true" (Twilio's <Record> reference).
            transcribe: a["transcribe"] === "true" || a["transcribeCallback"] !== undefined ? true : undefined,
            transcribe_callback: a["transcribeCallback"],
            recording_status_callback: a["recordingStatusCallback"],
            recording_status_callback_method: a["recordingStatusCallbackMethod"],
            recording_status_callback_event: a["recordingStatusCallbackEvent"],
          }),
        });
        break;
      case "Connect":
        for (const child of verb.children) {
          const action = streamAction(verb, child);
          if (action) actions.push(action);
        }
        break;
      case "Redirect":
        actions.push({ type: "redirect", path, ...defined({ url: verb.text || undefined, method: a["method"] }) });
        return actions;
      case "Hangup":
        actions.push({ type: "hangup", path });
        return actions;
      case "Reject":
        actions.push({ type: "reject", path, reason: a["reason"] ?? "rejected" });
        return actions;
      default:
        // Enqueue, Pay, Sms, Start, Stop, Echo, Leave, Refer, Queue, Prompt: no normalised action.
        break;
    }
  }
  return actions;
}

/** Verbs that change the call but that vwh does not play out: the call goes on with the next verb. */
const notSimulated = new Set(["Enqueue", "Pay", "Echo", "Leave", "Refer", "Queue", "Prompt"]);

export function simulationWarnings(root: TwimlElement): Finding[] {
  const warnings: Finding[] = [];
  for (const verb of root.children) {
    if (notSimulated.has(verb.name))
      warnings.push({ kind: "rule", path: verb.path, message: `vwh does not simulate <${verb.name}>: the simulated call goes on with the next verb` });
    if (verb.name === "Connect") {
      for (const child of verb.children) {
        if (child.name !== "Stream" && child.name !== "ConversationRelay")
          warnings.push({
            kind: "rule",
            path: child.path,
            message: `vwh does not simulate <Connect><${child.name}>: the simulated call goes on as if it ended at once`,
          });
      }
    }
  }
  return warnings;
}

// ---- expect.native ----

/** `Response/Gather@action`, `Response/Gather[2]/Say`, `Response/*@method`: attribute values, or element text. */
/** `expect.native` over a TwiML document. */
export const twimlDocument = xmlDocument;
