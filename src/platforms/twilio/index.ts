/** Twilio Programmable Voice (README: Platforms and caller scripts, docs/platforms/twilio.md): form-encoded webhooks, TwiML replies, X-Twilio-Signature. */
import * as z from "zod";
import type { EventSpec, Platform } from "../types.js";
import { TwilioCallDriver, type TwilioEventType } from "./driver.js";
import { twilioRedirects } from "./call-rules.js";
import { baseParams, callSidFor, formRequest, rfc2822, sid, twilioHeaders } from "./params.js";
import { explainTwilioStatus, parseTwilioReply } from "./reply.js";
import { twilioSettingsSchema } from "./settings.js";
import { scenarios } from "./starters.js";

// Twilio sends every parameter as a string; a flow may write numbers and booleans, sent as their text.
const param = z.union([z.string(), z.number(), z.boolean()]);
const params = (shape: Record<string, z.ZodType>) =>
  z.looseObject(shape).pipe(z.record(z.string(), param, { error: "expected string parameters (Twilio sends form fields)" }));
const digits = z.string().regex(/^[0-9*#A-D]*$|^hangup$/, "expected DTMF digits (0-9, *, #, A-D)");

const events: Record<TwilioEventType, EventSpec> = {
  voice: {
    payload: params({ CallStatus: z.string().optional() }),
    waits: true,
    description: "the incoming call: the voice URL is fetched for its first TwiML",
  },
  gather: {
    payload: params({
      Digits: digits.optional(),
      FinishedOnKey: z.string().optional(),
      SpeechResult: z.string().optional(),
      Confidence: z.union([z.string(), z.number()]).optional(),
    }),
    waits: true,
    description: "<Gather action>: what the caller said or pressed",
  },
  record: {
    payload: params({
      RecordingUrl: z.string().optional(),
      RecordingSid: z.string().optional(),
      RecordingDuration: z.union([z.string(), z.number()]).optional(),
      Digits: digits.optional(),
    }),
    waits: true,
    description: "<Record action>: the recording",
  },
  dial: {
    payload: params({
      DialCallStatus: z.enum(["completed", "answered", "busy", "no-answer", "failed", "canceled"]).optional(),
      DialCallSid: z.string().optional(),
      DialCallDuration: z.union([z.string(), z.number()]).optional(),
    }),
    waits: true,
    description: "<Dial action>: how the dialled call ended",
  },
  redirect: { payload: params({}), waits: true, description: "<Redirect>: the next document is fetched" },
  connect: { payload: params({}), waits: true, description: "<Connect action>: the stream or session ended" },
  status: {
    payload: params({
      CallStatus: z.enum(["initiated", "ringing", "in-progress", "completed", "busy", "no-answer", "failed", "canceled"]).optional(),
      SequenceNumber: z.union([z.string(), z.number()]).optional(),
    }),
    waits: false,
    description: "statusCallback: call progress (initiated, ringing, answered, completed); the body is ignored",
    replyIgnored: { setting: "settings.status_callback (--status-callback)" },
  },
  transcription: {
    payload: params({
      TranscriptionSid: z.string().optional(),
      TranscriptionText: z.string().optional(),
      TranscriptionStatus: z.enum(["completed", "failed"]).optional(),
      TranscriptionUrl: z.string().optional(),
      RecordingSid: z.string().optional(),
      RecordingUrl: z.string().optional(),
    }),
    waits: false,
    description: "<Record transcribeCallback>: the recording's transcription; the body is ignored",
  },
  recording_status: {
    payload: params({
      RecordingSid: z.string().optional(),
      RecordingUrl: z.string().optional(),
      RecordingStatus: z.enum(["in-progress", "completed", "absent", "failed"]).optional(),
      RecordingDuration: z.union([z.string(), z.number()]).optional(),
    }),
    waits: false,
    description: "<Record recordingStatusCallback>: the recording is ready; the body is ignored",
  },
};
const eventTypes = Object.keys(events) as [TwilioEventType, ...TwilioEventType[]];

/** The parameters of a request, from its form body or (GET) its query string. */
function requestParams(path: string, body: Buffer): URLSearchParams {
  const query = path.includes("?") ? path.slice(path.indexOf("?") + 1) : "";
  const text = body.toString("utf8");
  return new URLSearchParams(text.includes("=") && !text.trimStart().startsWith("{") ? text : query);
}

function eventTypeOf(found: URLSearchParams): TwilioEventType | undefined {
  if (!found.has("CallSid")) return undefined;
  if (found.has("TranscriptionSid") || found.has("TranscriptionStatus")) return "transcription";
  if (found.has("RecordingStatus")) return "recording_status";
  if (found.has("CallbackSource") || found.has("SequenceNumber")) return "status";
  if (found.has("DialCallStatus")) return "dial";
  if (found.has("RecordingUrl")) return "record";
  if (found.get("msg") === "Gather End" || found.has("SpeechResult") || found.has("Digits")) return "gather";
  return "voice";
}

export const twilioPlatform = {
  id: "twilio",
  summary: "Twilio Programmable Voice: form-encoded webhooks, TwiML replies, X-Twilio-Signature over the public URL",
  scheme: "twilio",
  profile: "twilio",
  events,
  eventType: z.enum(eventTypes, { error: `expected a Twilio request type: ${eventTypes.join(", ")}` }),
  actions: ["speak", "play", "listen", "stream", "transfer", "record", "pause", "redirect", "hangup", "reject"],
  callerInputs: ["connect", "say", "press", "silence", "hangup", "interrupt", "event"],
  actsDuringPlayback: ["hangup", "press", "say", "interrupt"],

  encode(event) {
    const type = event.eventType as TwilioEventType;
    const callStatus = type === "voice" ? "ringing" : type === "status" ? "completed" : "in-progress";
    const extras: Partial<Record<TwilioEventType, Record<string, string>>> = {
      gather: { msg: "Gather End" },
      status: { CallbackSource: "call-progress-events", SequenceNumber: String(event.sequence - 1), Timestamp: rfc2822(event.timestamp) },
      transcription: { TranscriptionSid: sid("TR", event.eventId), TranscriptionStatus: "completed" },
      recording_status: { RecordingSid: sid("RE", event.eventId), RecordingStatus: "completed", RecordingSource: "RecordVerb" },
    };
    const extra = extras[type] ?? {};
    const payload = Object.fromEntries(Object.entries(event.payload).map(([name, value]) => [name, String(value)]));
    const body = {
      ...baseParams({ call: event.call, accountSid: sid("AC", "vwh simulated account"), callSid: callSidFor(event.call.callId), callStatus }),
      ...extra,
      ...payload,
    };
    return formRequest("POST", event.url, body, twilioHeaders(event.eventId, undefined));
  },

  parseReply: parseTwilioReply,
  settings: twilioSettingsSchema,
  redirects: twilioRedirects,
  explainStatus: explainTwilioStatus,

  nativeCallId: callSidFor,

  async startCall(setup) {
    return new TwilioCallDriver(setup);
  },

  identify(request) {
    const found = requestParams(request.path, request.body);
    return { eventType: eventTypeOf(found), callId: found.get("CallSid") ?? undefined, eventId: request.headers["i-twilio-idempotency-token"] };
  },

  redaction: {
    phone: ["From", "To", "Caller", "Called", "ForwardedFrom", "CalledVia", "CallerName"],
    // What the caller said or typed (Digits may be a PIN or a card number).
    text: ["SpeechResult", "UnstableSpeechResult", "StableSpeechResult", "TranscriptionText", "Digits", "HandoffData"],
  },
  handlerSecret: { env: "TWILIO_AUTH_TOKEN", readBy: "twilio.webhook() of the twilio package (when no token is passed) and examples/twilio-handler.js" },
  starters: scenarios,
  examplePath: "/twilio/voice",
  secretName: "your Twilio auth token",
  media: { "twilio-media": () => import("./media.js"), "twilio-relay": () => import("./relay.js") },
} satisfies Platform;
