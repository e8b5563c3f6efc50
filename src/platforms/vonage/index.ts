/** Vonage Voice API (docs/platforms/vonage.md): answer and event webhooks, NCCO replies, JWT-signed callbacks. */
import type { Platform } from "../types.js";
import { VonageCallDriver, vonageEventUrl, vonageSettingsSchema } from "./driver.js";
import { msisdn, receivedFields, vonageEvents, vonageEventType, vonageEventTypeOf, vonageRequest } from "./events.js";
import { parseNccoReply } from "./reply.js";
import { vonageStarters } from "./starters.js";
import { derivedUuid, uuidCallId } from "../../core/ids.js";

const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

export const vonagePlatform = {
  id: "vonage",
  summary: "Vonage Voice API: answer/event webhooks, NCCO replies (@vonage/voice types), JWT-signed callbacks",
  scheme: "vonage",
  profile: "vonage",
  events: vonageEvents,
  eventType: vonageEventType,
  actions: ["speak", "play", "listen", "stream", "transfer", "record", "pause", "redirect", "hangup"],
  callerInputs: ["connect", "say", "press", "silence", "hangup", "interrupt", "event"],
  actsDuringPlayback: ["hangup", "press", "say", "interrupt"],

  encode(event) {
    const { call } = event;
    const base: Record<string, unknown> = {
      from: msisdn(call.from ?? "+15550100001"),
      to: msisdn(call.to ?? "+15550100002"),
      uuid: uuidCallId(call.callId),
      conversation_uuid: `CON-${derivedUuid("conversation", call.callId)}`,
    };
    if (event.eventType === "answer")
      return vonageRequest("GET", event.url, { ...base, region_url: "https://api-us-3.vonage.com", endpoint_type: "phone", ...event.payload });
    if (event.eventType === "input" || event.eventType === "notify")
      return vonageRequest("POST", event.url, { ...base, ...event.payload, timestamp: event.timestamp.toISOString() });
    return vonageRequest("POST", event.url, {
      ...base,
      status: event.eventType,
      direction: call.direction ?? "inbound",
      ...event.payload,
      timestamp: event.timestamp.toISOString(),
    });
  },

  // Its call ids are UUIDs: vwh's call id maps onto one (the same every time).
  nativeCallId: uuidCallId,
  parseReply: parseNccoReply,

  describeSettings(settings, url) {
    const configured = typeof settings["event_url"] === "string";
    return `vonage event_url ${vonageEventUrl(settings, url).href} (${configured ? "settings.event_url" : "a guess next to the answer URL: set settings.event_url to your application's"}); Vonage ignores its replies, so a failure there is a warning (--strict-events fails on it)`;
  },

  async startCall(setup) {
    return new VonageCallDriver(setup);
  },

  identify(request) {
    const fields = receivedFields(request.method, request.path, request.body);
    // Vonage sends no dedup key (the signed token's jti is per request, not per event).
    return { eventType: vonageEventTypeOf(fields), callId: text(fields["uuid"]) ?? text(fields["call_uuid"]), eventId: undefined };
  },

  redaction: {
    phone: ["from", "to", "from_user", "number", "dtmfAnswer"],
    // Input results: speech results' text and the keys pressed.
    text: ["text", "digits"],
  },
  handlerSecret: { env: "VONAGE_SIGNATURE_SECRET", readBy: "examples/vonage-handler.js (@vonage/jwt's verifySignature takes the secret as an argument)" },
  starters: vonageStarters,
  examplePath: "/webhooks/answer",
  secretName: "your Vonage signature secret",
  settings: vonageSettingsSchema,
  media: { vonage: () => import("./media.js") },
} satisfies Platform;
