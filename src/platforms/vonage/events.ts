/**
 * What Vonage sends (docs/platforms/vonage.md): the answer webhook (GET query by default, POST JSON when the
 * application says so), call status events to the event URL (POST JSON by default), and the results
 * of `input` and `notify` actions to their eventUrl. Field names are Vonage's; values are strings where
 * Vonage sends strings (numbers without "+", durations, speech confidences).
 */
import * as z from "zod";
import type { EventSpec, WebhookRequest } from "../types.js";

/** Call states the event URL receives (the SDK's CallStatus plus the legs' other notices). */
export const callStatuses = [
  "started",
  "ringing",
  "answered",
  "machine",
  "human",
  "completed",
  "busy",
  "cancelled",
  "failed",
  "rejected",
  "timeout",
  "unanswered",
  "disconnected",
  "record",
  "transfer",
  "error",
] as const;

const common = {
  from: z.string().optional(),
  to: z.string().optional(),
  uuid: z.string().optional(),
  conversation_uuid: z.string().optional(),
  timestamp: z.string().optional(),
};

// Vonage ignores the event webhook's reply (only input, notify and a synchronous connect's replies count).
const statusSpec = (description: string, setting = "settings.event_url"): EventSpec => ({
  payload: z.looseObject({ ...common, status: z.string().optional(), direction: z.enum(["inbound", "outbound"]).optional() }),
  waits: false,
  description,
  replyIgnored: { setting },
});

export const vonageEvents: Readonly<Record<string, EventSpec>> = {
  answer: {
    payload: z.looseObject({
      ...common,
      endpoint_type: z.enum(["phone", "sip", "app", "websocket", "vbc"]).optional(),
      region_url: z.string().optional(),
      custom_data: z.unknown().optional(),
    }),
    waits: true,
    description: "answer_url: a call came in; the reply is the NCCO",
  },
  input: {
    payload: z.looseObject({
      ...common,
      speech: z
        .looseObject({
          timeout_reason: z.enum(["end_on_silence_timeout", "max_duration", "start_timeout"]).optional(),
          results: z
            .array(z.looseObject({ confidence: z.string({ error: "expected a string (Vonage sends confidences as strings)" }), text: z.string() }))
            .optional(),
          error: z.string().optional(),
          recording_url: z.string().optional(),
        })
        .optional(),
      dtmf: z.looseObject({ digits: z.string().nullable().optional(), timed_out: z.boolean().optional() }).optional(),
    }),
    waits: true,
    description: "the input action's result, to its eventUrl; a reply NCCO replaces the current one",
  },
  notify: {
    payload: z.looseObject({}),
    waits: true,
    description: "a notify action's payload, to its eventUrl; a reply NCCO replaces the current one",
  },
  started: statusSpec("the call leg was created"),
  ringing: statusSpec("the destination is ringing"),
  answered: statusSpec("the call was answered"),
  machine: statusSpec("answering machine detected"),
  human: statusSpec("a person answered (machine detection)"),
  completed: statusSpec("the call ended (with duration, rate and price)"),
  busy: statusSpec("the destination was busy"),
  cancelled: statusSpec("the call was cancelled before it was answered"),
  failed: statusSpec("the call failed"),
  rejected: statusSpec("the call was rejected"),
  timeout: statusSpec("the destination did not answer in time"),
  unanswered: statusSpec("the destination did not answer"),
  disconnected: statusSpec("a websocket leg was closed by the application"),
  record: statusSpec("a recording is ready", "the record action's eventUrl"),
  transfer: statusSpec("the leg moved to another conversation"),
  error: statusSpec("an error in the call (e.g. an NCCO the platform could not use)"),
};

export const vonageEventType = z.enum(Object.keys(vonageEvents) as [string, ...string[]], {
  error: (issue) => `unknown Vonage webhook ${JSON.stringify(issue.input)} (expected answer, input, notify or a call status: ${callStatuses.join(", ")})`,
});

/** A Vonage number as it appears on the wire: E.164 digits without the "+". */
export function msisdn(number: string): string {
  return number.startsWith("+") ? number.slice(1) : number;
}

function stringValues(fields: Record<string, unknown>): Record<string, string> {
  const query: Record<string, string> = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined || value === null) continue;
    query[name] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return query;
}

/** A webhook in Vonage's form: GET with the fields in the query, or POST with them as a JSON body. */
export function vonageRequest(method: "GET" | "POST", url: URL, fields: Record<string, unknown>): WebhookRequest {
  if (method === "GET") {
    const addressed = new URL(url.href);
    for (const [name, value] of Object.entries(stringValues(fields))) addressed.searchParams.set(name, value);
    return { method, url: addressed, body: Buffer.alloc(0), contentType: undefined, headers: { "user-agent": "Vonage-Voice" } };
  }
  return { method, url, body: Buffer.from(JSON.stringify(fields)), contentType: "application/json", headers: { "user-agent": "Vonage-Voice" } };
}

/** The fields of a received Vonage webhook: the query of a GET, the JSON body of a POST. */
export function receivedFields(method: string, path: string, body: Buffer): Record<string, unknown> {
  if (method.toUpperCase() === "GET") return Object.fromEntries(new URL(path, "http://received.invalid").searchParams);
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Which webhook a received request is, from its fields alone (tunnel, recordings, `vwh sign`). */
export function vonageEventTypeOf(fields: Record<string, unknown>): string | undefined {
  if (typeof fields["status"] === "string") return fields["status"];
  if ("recording_url" in fields) return "record";
  if ("speech" in fields || "dtmf" in fields) return "input";
  // The answer request says where the call came in; a notify carries the NCCO's payload and the call.
  if ("endpoint_type" in fields || "region_url" in fields) return "answer";
  return typeof fields["conversation_uuid"] === "string" ? "notify" : undefined;
}
