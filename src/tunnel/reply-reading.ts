/**
 * A handler's reply as the platform that sent the request would read it (issue 26): vwh's own reply
 * check (checks/reply.ts, through the platform's reply reader) gives the findings `vwh simulate` would
 * report, and the actions are named as the reply names them (platforms/shared/action-names.ts) for the
 * live log and the inspector. No grammar here: everything comes from the platform's `parseReply`.
 */
import { checkReply } from "../checks/reply.js";
import type { Finding } from "../core/findings.js";
import { actionNames } from "../platforms/shared/action-names.js";
import type { Platform, WebhookRequest } from "../platforms/types.js";
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
