/** What a Vapi request is: message type, call id and a dedup key (Vapi sends no message id). */
import type { RequestIdentity } from "../types.js";

function message(body: Buffer): Record<string, unknown> | undefined {
  try {
    const value = (JSON.parse(body.toString("utf8")) as { message?: unknown } | null)?.message;
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const text = (value: unknown): string | undefined => (typeof value === "string" && value ? value : undefined);

/**
 * Vapi messages carry no id: a tool call's id is the natural dedup key of tool-calls, and call id, type
 * and timestamp identify the rest.
 */
export function identifyVapi(body: Buffer): RequestIdentity {
  const found = message(body);
  if (!found) return { eventType: undefined, callId: undefined, eventId: undefined };
  const type = text(found["type"]);
  const callId = text((found["call"] as { id?: unknown } | undefined)?.id);
  const firstToolCall = Array.isArray(found["toolCallList"]) ? text((found["toolCallList"][0] as { id?: unknown } | undefined)?.id) : undefined;
  const eventId = firstToolCall ?? (type && callId && typeof found["timestamp"] === "number" ? `${callId}:${type}:${found["timestamp"]}` : undefined);
  return { eventType: type, callId, eventId };
}

export function vapiEventId(body: Buffer): string | undefined {
  return identifyVapi(body).eventId;
}
