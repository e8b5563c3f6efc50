/**
 * What the tunnel shows of a request: its event type, call id, event id and sequence. One function,
 * so the platform seam (SPEC §7: each platform's `identify(request)`) can take it over in one place.
 */
import type { Platform } from "../platforms/types.js";
import { eventTypeSchema } from "../platforms/vwh/envelope.js";

export interface IdentifiableRequest {
  method: string;
  path: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export interface RequestIdentity {
  eventType: string | undefined;
  callId: string | undefined;
  eventId: string | undefined;
  sequence: number | undefined;
  /** The event type is the platform's own (a vwh envelope's, or the --platform's), so a recording may carry it. */
  recordable: boolean;
}

const none: RequestIdentity = { eventType: undefined, callId: undefined, eventId: undefined, sequence: undefined, recordable: false };

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** vwh envelopes, JSON events with a type field, and Twilio-style form posts (also in the query). */
export function identifyRequest(request: IdentifiableRequest): RequestIdentity {
  const text = request.body.toString("utf8");
  const value = parseJsonObject(text);
  if (value) {
    const pick = (key: string) => (typeof value[key] === "string" && value[key] !== "" ? (value[key] as string) : undefined);
    const eventType = pick("event_type") ?? pick("type") ?? pick("event");
    return {
      eventType,
      callId: pick("call_id") ?? pick("CallSid") ?? pick("uuid") ?? pick("conversation_uuid"),
      eventId: pick("event_id") ?? request.headers["webhook-id"],
      sequence: typeof value.sequence === "number" ? value.sequence : undefined,
      recordable: pick("event_type") !== undefined && eventTypeSchema.safeParse(pick("event_type")).success,
    };
  }
  const form = /x-www-form-urlencoded/i.test(request.headers["content-type"] ?? "") ? new URLSearchParams(text) : undefined;
  const query = new URLSearchParams(request.path.includes("?") ? request.path.slice(request.path.indexOf("?") + 1) : "");
  const param = (name: string) => form?.get(name) ?? query.get(name) ?? undefined;
  const callId = param("CallSid") ?? param("uuid") ?? param("call_id");
  const eventType = param("CallStatus") ?? param("StatusCallbackEvent") ?? param("status") ?? param("event_type");
  if (callId === undefined && eventType === undefined) return { ...none, eventId: request.headers["webhook-id"] };
  return { eventType, callId, eventId: request.headers["webhook-id"], sequence: undefined, recordable: false };
}

export type Identify = (request: IdentifiableRequest) => RequestIdentity;

/** With --platform, the platform's own fields (SPEC §7); without, the best guess above over common shapes. */
export function requestIdentifier(platform: Pick<Platform, "identify"> | undefined): Identify {
  if (!platform) return identifyRequest;
  return (request) => {
    const identity = platform.identify(request);
    const sequence = identifyRequest(request).sequence;
    return { ...identity, sequence, recordable: identity.eventType !== undefined };
  };
}
