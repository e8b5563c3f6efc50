/**
 * A handler's reply as the platform that sent the request would read it (issue 26): vwh's own reply
 * check (checks/reply.ts, through the platform's reply reader) gives the findings `vwh simulate` would
 * report, and the actions are named as the reply names them — `Say, Gather` for TwiML and Plivo XML,
 * `talk, input` for an NCCO, the instruction types of vwh's own envelope — for the live log and the
 * inspector. No grammar here: everything comes from the platform's `parseReply`.
 */
import { checkReply } from "../checks/reply.js";
import type { Finding } from "../core/findings.js";
import type { Action, NativeDocument, ParsedReply, Platform, WebhookRequest } from "../platforms/types.js";
import type { HandlerReply } from "./proxy.js";

/** Replies longer than this are not read (the log shows an excerpt; the inspector says why). */
export const maxReadBytes = 1024 * 1024;

export interface ReplyReading {
  /** The platform whose reader read it. */
  platform: string;
  eventType: string;
  /** What vwh simulate would report on this reply (status, grammar, rules). */
  failures: Finding[];
  warnings: Finding[];
  /** The reply's actions as the reply names them, in order; undefined when the reply was not read as instructions. */
  actions: string[] | undefined;
  /** Said when the platform does not act on the reply (a status callback's). */
  note: string | undefined;
}

export interface ReadableRequest {
  method: string;
  /** The URL the platform addressed. */
  url: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

const xmlTop = /^[^/[\]@]+\/([^/[\]@]+)\[\d+\]/;
const jsonTop = /^((?:instructions)?\[\d+\])/;

/** The name an action has in the reply itself: its top-level element, the NCCO action, the instruction type. */
function nativeName(action: Action, native: NativeDocument | undefined): { key: string | undefined; name: string } {
  const xml = xmlTop.exec(action.path);
  if (xml) return { key: xml[0], name: xml[1]! };
  const json = jsonTop.exec(action.path);
  if (json) {
    const field = json[1]!.startsWith("instructions") ? "type" : "action";
    const named = native?.select(`${json[1]}.${field}`)[0];
    return { key: json[1], name: typeof named === "string" ? named : action.type };
  }
  return { key: undefined, name: action.type };
}

/** `Say, Gather` for `<Response><Say/><Gather><Say/></Gather></Response>`: one name per top-level element, in order. */
export function actionNames(parsed: Pick<ParsedReply, "actions" | "native">): string[] {
  const names: string[] = [];
  let lastKey: string | undefined;
  for (const action of parsed.actions) {
    const { key, name } = nativeName(action, parsed.native);
    if (key !== undefined && key === lastKey) continue;
    lastKey = key;
    names.push(name);
  }
  return names;
}

function webhookRequest(request: ReadableRequest): WebhookRequest {
  return {
    method: request.method === "GET" ? "GET" : "POST",
    url: URL.canParse(request.url) ? new URL(request.url) : new URL("http://localhost/"),
    body: request.body,
    contentType: request.headers["content-type"],
    headers: { ...request.headers },
  };
}

/**
 * Reads a reply with the platform's reader; undefined when there is nothing to read it with (no platform
 * or event type recognised) or it is too long or cut.
 */
export function readReply(
  platform: Platform | undefined,
  eventType: string | undefined,
  request: ReadableRequest,
  reply: HandlerReply,
  latencyMs: number,
): ReplyReading | undefined {
  if (!platform || eventType === undefined || reply.truncated || reply.body.length > maxReadBytes) return undefined;
  try {
    return read(platform, eventType, request, reply, latencyMs);
  } catch (error) {
    // A reader that throws is vwh's bug, not the handler's: said on the reply, and the exchange is still logged.
    const failure: Finding = { kind: "reply", message: `vwh could not read this reply: ${(error as Error).message}` };
    return { platform: platform.id, eventType, failures: [failure], warnings: [], actions: undefined, note: undefined };
  }
}

function read(platform: Platform, eventType: string, request: ReadableRequest, reply: HandlerReply, latencyMs: number): ReplyReading {
  const webhook = webhookRequest(request);
  const check = checkReply({
    platform,
    eventType,
    request: webhook,
    expect: undefined,
    status: reply.status,
    headers: reply.headers,
    body: reply.body,
    latencyMs,
    budgetMs: Number.POSITIVE_INFINITY,
    strictLatency: false,
  });
  const success = reply.status >= 200 && reply.status < 300;
  const waits = platform.events[eventType]?.waits ?? false;
  // An event the platform does not act on: its reply is still read, for the names of what it holds.
  let parsed = check.parsed;
  if (!parsed && success && reply.body.length > 0) parsed = platform.parseReply(reply, { eventType, waits: false, expectsActions: true, request: webhook });
  const actions = parsed && (parsed.actions.length > 0 || check.parsed) ? actionNames(parsed) : undefined;
  return {
    platform: platform.id,
    eventType,
    failures: check.failures,
    warnings: check.warnings,
    actions,
    note: success && !waits ? `${platform.id} does not act on the reply to ${eventType}` : undefined,
  };
}
