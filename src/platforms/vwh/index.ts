/** vwh's own platform (docs/platforms/vwh.md): the JSON envelope, `{"instructions": [...]}` replies, Standard Webhooks. */
import { attemptHeader, type CallInfo, type Platform } from "../types.js";
import { VwhCallDriver } from "./driver.js";
import { eventPayloadSchemas, eventTypeSchema, waitsForInstructions } from "./envelope.js";
import { instructionTypes } from "./grammar.js";
import { parseVwhReply } from "./reply.js";
import { scenarios } from "./starters.js";

const descriptions: Record<keyof typeof eventPayloadSchemas, string> = {
  "call.started": "a call connected",
  "media.stream.connected": "a media stream opened",
  "speech.detected": "the caller started speaking",
  "speech.ended": "the caller stopped speaking",
  "speech.transcribed": "what the caller said",
  "intent.matched": "an intent recognised in the caller's words",
  "dtmf.received": "keys the caller pressed",
  "playback.finished": "the platform finished (or the caller interrupted) what it was told to play",
  "call.redirected": "sent to a redirect instruction's URL for the next instructions",
  "call.ended": "the call ended",
};

// Load mode starts dozens of calls in the same millisecond: the last formatted time is kept (toISOString took 0.4 µs).
let lastTime = { ms: NaN, iso: "" };
function isoTime(date: Date): string {
  const ms = date.getTime();
  if (ms !== lastTime.ms) lastTime = { ms, iso: date.toISOString() };
  return lastTime.iso;
}

/**
 * call.started carries the call's parties, then the flow's own payload (which wins on a clash, in the
 * parties' place). Built key by key: the four spreads it was built with cost ~1.2 µs per call on node 20.
 */
function startedPayload(call: CallInfo, payload: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const merged: Record<string, unknown> = {};
  if (call.from) merged["from"] = call.from;
  if (call.to) merged["to"] = call.to;
  if (call.direction) merged["direction"] = call.direction;
  for (const key of Object.keys(payload)) {
    // An own "__proto__" key (JSON.parse makes one) stays a plain field, as in a spread.
    if (key === "__proto__") Object.defineProperty(merged, key, { value: payload[key], enumerable: true, writable: true, configurable: true });
    else merged[key] = payload[key];
  }
  return merged;
}

/**
 * A payload's JSON, made once per flow event: load mode sends the same payload object (a flow's, which
 * nothing changes once it is read) on every call, with fresh ids only. call.started's also depends on
 * the call's parties, which are kept beside it.
 */
interface PayloadText {
  /** Made for call.started (with the parties) or for another event type (the payload as it is). */
  started: boolean;
  from: string | undefined;
  to: string | undefined;
  direction: string | undefined;
  json: string;
}
const payloadTexts = new WeakMap<object, PayloadText>();
const emptyPayloadJson = "{}";

function payloadJson(eventType: string, call: CallInfo, payload: Readonly<Record<string, unknown>>): string {
  const started = eventType === "call.started";
  const known = payloadTexts.get(payload);
  if (
    known !== undefined &&
    known.started === started &&
    (!started || (known.from === call.from && known.to === call.to && known.direction === call.direction))
  )
    return known.json;
  const value = started ? startedPayload(call, payload) : payload;
  // An empty payload is `{}` whatever object it came in (each call may bring its own).
  const json = Object.keys(value).length === 0 ? emptyPayloadJson : JSON.stringify(value);
  payloadTexts.set(payload, {
    started,
    from: started ? call.from : undefined,
    to: started ? call.to : undefined,
    direction: started ? call.direction : undefined,
    json,
  });
  return json;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" && value ? value : undefined;
}

export const vwhPlatform = {
  id: "vwh",
  summary: "vwh's own JSON envelope and instructions (Standard Webhooks signatures)",
  scheme: "standard",
  profile: undefined,
  events: Object.fromEntries(
    Object.entries(eventPayloadSchemas).map(([type, payload]) => [
      type,
      { payload, waits: waitsForInstructions(type), description: descriptions[type as keyof typeof eventPayloadSchemas] },
    ]),
  ),
  eventType: eventTypeSchema,
  actions: instructionTypes,
  callerInputs: ["connect", "say", "press", "silence", "hangup", "interrupt", "event"],

  encode(event) {
    // docs/platforms/vwh.md field order; byte for byte what JSON.stringify gives the Envelope (tested), built as text
    // because only the ids and the time change from one call of a flow to the next.
    const body =
      `{"event_type":${JSON.stringify(event.eventType)},"event_id":${JSON.stringify(event.eventId)},"call_id":${JSON.stringify(event.call.callId)},` +
      `"sequence":${JSON.stringify(event.sequence)},"timestamp":"${isoTime(event.timestamp)}","payload":${payloadJson(event.eventType, event.call, event.payload)}}`;
    return { method: "POST", url: event.url, body: Buffer.from(body), contentType: "application/json", headers: { [attemptHeader]: "1" } };
  },

  parseReply: parseVwhReply,

  async startCall(setup) {
    return new VwhCallDriver(setup);
  },

  identify(request) {
    let body: Record<string, unknown> = {};
    try {
      const value: unknown = JSON.parse(request.body.toString("utf8"));
      if (value && typeof value === "object" && !Array.isArray(value)) body = value as Record<string, unknown>;
    } catch {
      // Not an envelope: only the headers can say anything.
    }
    return { eventType: text(body["event_type"]), callId: text(body["call_id"]), eventId: text(body["event_id"]) ?? text(request.headers["webhook-id"]) };
  },

  redaction: {
    phone: ["from", "to", "caller_id", "transfer_to", /_number$/i],
    text: ["text", "transcript", "utterance", "digits", "slots"],
  },
  schemes: ["standard", "stripe", "hmac", "bearer"],
  starters: scenarios,
  media: { vwh: () => import("./media.js") },
} satisfies Platform;
