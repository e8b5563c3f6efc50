/**
 * Reading a handler's NCCO (docs/platforms/vonage.md): a JSON array of actions, each checked against the fields
 * @vonage/voice declares (grammar.ts), then the rules the types cannot say — a `bargeIn` prompt must be
 * followed by an `input`, URLs must be absolute, `input.type` is dtmf and/or speech, one endpoint per
 * connect — and mapped onto the normalised actions of README: Platforms and caller scripts (talk→speak, stream→play, input→listen,
 * connect websocket→stream, connect phone/sip/app/vbc→transfer, record, wait→pause, notify→redirect).
 */
import { fastSafeParse } from "../../lib/compiled-schema.js";
import { showValue, type Finding } from "../../core/findings.js";
import { issuesToProblems } from "../../lib/validation.js";
import { jsonDocument, parseJsonBody } from "../shared/json-document.js";
import type { Action, HttpReply, ParsedReply, ReplyContext } from "../types.js";
import { nccoSchema } from "./grammar.js";

type NccoAction = Record<string, unknown> & { action: string };

// Every reply of a load run is checked: the compiled fast path vouches for the common well-formed NCCO, zod judges
// the rest (issue 15). Key order never shows: actions are read field by field into new objects (normaliseNcco).
const checkNcco = fastSafeParse(nccoSchema, { anyKeyOrder: true });

const first = (value: unknown): unknown => (Array.isArray(value) ? value[0] : undefined);
// Fields Vonage reads as strings too (overrides.json): the normalised action carries the value it means.
const flag = (value: unknown): boolean | undefined => (value === "true" ? true : value === "false" ? false : typeof value === "boolean" ? value : undefined);
const amount = (value: unknown): number | undefined =>
  typeof value === "number" ? value : typeof value === "string" && value !== "" && Number.isFinite(Number(value)) ? Number(value) : undefined;
const defined = (fields: Record<string, unknown>) => Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));

/** The normalised action of one NCCO action (README: Platforms and caller scripts). */
export function normaliseNcco(item: NccoAction, index: number): Action {
  const path = `[${index}]`;
  switch (item.action) {
    case "talk":
      return { type: "speak", path, ...defined({ text: item["text"], barge_in: item["bargeIn"] === true, language: item["language"], loop: item["loop"] }) };
    case "stream":
      return { type: "play", path, ...defined({ url: first(item["streamUrl"]), barge_in: item["bargeIn"] === true, loop: item["loop"] }) };
    case "input": {
      const dtmf = (item["dtmf"] ?? {}) as Record<string, unknown>;
      const speech = (item["speech"] ?? {}) as Record<string, unknown>;
      return {
        type: "listen",
        path,
        ...defined({
          input: item["type"],
          url: first(item["eventUrl"]),
          method: item["eventMethod"],
          max_digits: dtmf["maxDigits"],
          language: speech["language"],
          hints: speech["context"],
        }),
      };
    }
    case "connect": {
      const endpoint = (first(item["endpoint"]) ?? {}) as Record<string, unknown>;
      if (endpoint["type"] === "websocket")
        return { type: "stream", path, ...defined({ url: endpoint["uri"], content_type: endpoint["contentType"] ?? endpoint["content-type"] }) };
      const to =
        endpoint["type"] === "phone"
          ? endpoint["number"]
          : endpoint["type"] === "sip"
            ? endpoint["uri"]
            : endpoint["type"] === "app"
              ? `app:${String(endpoint["user"])}`
              : `vbc:${String(endpoint["extension"])}`;
      return { type: "transfer", path, ...defined({ to, caller_id: item["from"], timeout_s: item["timeout"] }) };
    }
    case "conversation":
      // The caller joins a named conversation: the call leaves the script's hands, as with a transfer.
      return { type: "transfer", path, to: `conversation:${String(item["name"])}` };
    case "record":
      return {
        type: "record",
        path,
        ...defined({
          max_duration_s: amount(item["timeOut"]),
          end_on_silence_s: item["endOnSilence"],
          end_on_key: item["endOnKey"],
          beep: flag(item["beepStart"]),
          url: first(item["eventUrl"]),
        }),
      };
    case "wait":
      return { type: "pause", path, duration_ms: 1000 * (typeof item["timeout"] === "number" ? item["timeout"] : 10) };
    case "notify":
      return { type: "redirect", path, ...defined({ url: first(item["eventUrl"]), method: item["eventMethod"], payload: item["payload"] }) };
    default:
      return { type: "hangup", path };
  }
}

function absoluteUrl(value: unknown, protocols: readonly string[]): boolean {
  if (typeof value !== "string" || !URL.canParse(value)) return false;
  return protocols.includes(new URL(value).protocol);
}

/** The rules of the NCCO reference that the SDK's types do not carry. Assumes the schema passed. */
export function checkNccoRules(ncco: readonly NccoAction[]): Finding[] {
  const findings: Finding[] = [];
  const rule = (path: string, message: string) => findings.push({ kind: "rule", path, message });
  const checkUrls = (index: number, field: string, protocols: readonly string[]) => {
    const urls = ncco[index]![field];
    if (!Array.isArray(urls)) return;
    urls.forEach((url: unknown, position) => {
      if (!absoluteUrl(url, protocols))
        rule(`[${index}].${field}[${position}]`, `expected an absolute ${protocols.map((p) => p.slice(0, -1)).join("/")} URL, got ${showValue(url)}`);
    });
  };
  ncco.forEach((item, index) => {
    if ((item.action === "talk" || item.action === "stream") && item["bargeIn"] === true) {
      if (!ncco.slice(index + 1).some((next) => next.action === "input")) {
        rule(`[${index}].bargeIn`, `bargeIn ${item.action} must be followed by an input action (Vonage keeps listening for barge-in until one)`);
      }
    }
    checkUrls(index, "eventUrl", ["http:", "https:"]);
    if (item.action === "stream") checkUrls(index, "streamUrl", ["http:", "https:"]);
    if (item.action === "input") {
      const types = item["type"] as unknown[];
      if (types.length === 0) rule(`[${index}].type`, 'expected "dtmf", "speech" or both, got none');
      types.forEach((type, position) => {
        if (type !== "dtmf" && type !== "speech") rule(`[${index}].type[${position}]`, `expected "dtmf" or "speech", got ${showValue(type)}`);
      });
    }
    if (item.action === "connect") {
      const endpoints = item["endpoint"] as Record<string, unknown>[];
      if (endpoints.length !== 1) rule(`[${index}].endpoint`, `expected exactly one endpoint, got ${endpoints.length}`);
      endpoints.forEach((endpoint, position) => {
        if (endpoint["type"] === "websocket" && !absoluteUrl(endpoint["uri"], ["ws:", "wss:"]))
          rule(`[${index}].endpoint[${position}].uri`, `expected a ws(s) URL, got ${showValue(endpoint["uri"])}`);
      });
    }
    if (item.action === "notify" && (item["eventUrl"] as unknown[]).length === 0) rule(`[${index}].eventUrl`, "expected a URL to notify");
  });
  return findings;
}

/**
 * Values the SDK's types ask for where the NCCO reference documents another type (overrides.json): accepted,
 * with a warning that names the documented type.
 */
export function nccoWarnings(ncco: readonly NccoAction[]): Finding[] {
  const warnings: Finding[] = [];
  ncco.forEach((item, index) => {
    const speech = item.action === "input" ? (item["speech"] as Record<string, unknown> | undefined) : undefined;
    if (typeof speech?.["endOnSilence"] === "boolean") {
      warnings.push({
        kind: "schema",
        path: `[${index}].speech.endOnSilence`,
        message: `the NCCO reference documents seconds of silence (a number from 0.4 to 10), got ${String(speech["endOnSilence"])} (@vonage/voice types it boolean)`,
      });
    }
  });
  return warnings;
}

/** An event's reply is ignored by Vonage: read what it tried to say, without judging its form. */
function ackActions(reply: HttpReply): Action[] {
  const parsed = parseJsonBody(reply.body);
  if (!("value" in parsed) || !Array.isArray(parsed.value)) return [];
  return (parsed.value as unknown[]).filter((item): item is NccoAction => typeof (item as NccoAction | null)?.action === "string").map(normaliseNcco);
}

export function parseNccoReply(reply: HttpReply, context: ReplyContext): ParsedReply {
  const result: ParsedReply = { native: undefined, actions: [], failures: [], warnings: [] };
  if (!context.waits && !context.expectsActions) {
    if (reply.body.length > 0) result.actions = ackActions(reply);
    return result;
  }
  if (reply.body.length === 0) {
    // The answer webhook must return an NCCO; an input or notify result without one lets the current NCCO go on.
    if (context.eventType === "answer")
      result.failures.push({ kind: "reply", path: "body", message: `expected an NCCO (a JSON array of actions), got an empty reply (${reply.status})` });
    return result;
  }
  const contentType = reply.headers["content-type"] ?? "";
  const jsonType = /^application\/([\w.+-]+\+)?json\b/i.test(contentType);
  const parsed = parseJsonBody(reply.body);
  if ("error" in parsed) {
    if (jsonType) result.failures.push({ kind: "reply", path: "body", message: parsed.error });
    else
      result.failures.push({
        kind: "reply",
        path: "content-type",
        message: `expected application/json (an NCCO), got ${contentType ? showValue(contentType) : "none"} and a body that is ${parsed.error}`,
      });
    return result;
  }
  // Vonage's docs name no reply content type, and every official .NET snippet serves its NCCO as text/plain
  // (ASP.NET Core's Ok(string); github:Vonage/vonage-dotnet-code-snippets DotNetWebhookCodeSnippets/Controllers):
  // a JSON body is read whatever its type, with a warning.
  if (!jsonType)
    result.warnings.push({
      kind: "reply",
      path: "content-type",
      message: `expected application/json, got ${contentType ? showValue(contentType) : "none"}: Vonage reads the NCCO anyway`,
    });
  const value = parsed.value;
  result.native = jsonDocument(value);
  if (!Array.isArray(value)) {
    result.failures.push({
      kind: "schema",
      path: "body",
      message: `expected an NCCO (a JSON array of actions), got ${value === null ? "null" : typeof value === "object" ? "an object" : showValue(value)}`,
    });
    return result;
  }
  const checked = checkNcco(value, { reportInput: true });
  if (!checked.success) {
    for (const problem of issuesToProblems(checked.error)) result.failures.push({ kind: "schema", path: problem.path, message: problem.message });
    return result;
  }
  const ncco = checked.data as NccoAction[];
  result.actions = ncco.map(normaliseNcco);
  if (ncco.length === 0 && context.eventType === "answer")
    result.failures.push({ kind: "schema", path: "body", message: "expected at least one action: an empty NCCO hangs up at once" });
  result.failures.push(...checkNccoRules(ncco));
  result.warnings.push(...nccoWarnings(ncco));
  return result;
}
