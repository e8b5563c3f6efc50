/** Plivo Voice (docs/platforms/plivo.md): form webhooks, Plivo XML replies (plivo-node's grammar), V3 signatures. */
import type { Platform } from "../types.js";
import { PlivoCallDriver, plivoSettingsSchema } from "./driver.js";
import { formValues, plivoEvents, plivoEventType, plivoEventTypeOf, plivoRequest, plivoTime } from "./events.js";
import { parsePlivoReply } from "./reply.js";
import { plivoStarters } from "./starters.js";
import { uuidCallId } from "../../core/ids.js";

const markers: Record<string, Record<string, string>> = {
  answer: { Event: "StartApp" },
  get_input: { InputType: "dtmf", Digits: "" },
  get_digits: { Digits: "" },
  redirect: { Event: "Redirect" },
  record: { RecordUrl: "", RecordingID: "" },
  dial: { DialStatus: "completed" },
  hangup: { Event: "Hangup", HangupCause: "NORMAL_CLEARING" },
};

export const plivoPlatform = {
  id: "plivo",
  summary: "Plivo Voice: form webhooks, Plivo XML replies (plivo-node's plivoxml grammar), V3 signatures with nonce",
  scheme: "plivo",
  profile: undefined,
  events: plivoEvents,
  eventType: plivoEventType,
  actions: ["speak", "play", "listen", "stream", "transfer", "record", "pause", "redirect", "hangup"],
  callerInputs: ["connect", "say", "press", "silence", "hangup", "interrupt", "event"],
  actsDuringPlayback: ["hangup", "press", "say", "interrupt"],

  encode(event) {
    const { call } = event;
    const params: Record<string, string> = {
      CallUUID: uuidCallId(call.callId),
      From: (call.from ?? "+15550100001").replace(/^\+/, ""),
      To: (call.to ?? "+15550100002").replace(/^\+/, ""),
      CallStatus: event.eventType === "answer" ? "ringing" : event.eventType === "hangup" ? "completed" : "in-progress",
      Direction: call.direction ?? "inbound",
      // What marks each request as Plivo sends it (the payload may override any of it).
      ...markers[event.eventType],
      ...(event.eventType === "hangup" && { EndTime: plivoTime(event.timestamp.getTime()) }),
      ...formValues(event.payload),
    };
    return plivoRequest("POST", event.url, params);
  },

  // Its call ids are UUIDs: vwh's call id maps onto one (the same every time).
  nativeCallId: uuidCallId,
  parseReply: parsePlivoReply,
  settings: plivoSettingsSchema,

  async startCall(setup) {
    return new PlivoCallDriver(setup);
  },

  identify(request) {
    const query = new URL(request.path, "http://received.invalid").searchParams;
    const params = request.method.toUpperCase() === "GET" ? query : new URLSearchParams(request.body.toString("utf8"));
    // Plivo sends no dedup key.
    return { eventType: plivoEventTypeOf(params), callId: params.get("CallUUID") ?? undefined, eventId: undefined };
  },

  redaction: {
    phone: ["From", "To", "CallerName", "ForwardedFrom"],
    text: ["Speech", "Digits", "UnstableSpeech", "StableSpeech"],
  },
  handlerSecret: { env: "PLIVO_AUTH_TOKEN", readBy: "the plivo package's Client and examples/plivo-handler.js" },
  starters: plivoStarters,
  examplePath: "/plivo/answer",
  secretName: "your Plivo auth token",
} satisfies Platform;
