/**
 * Telnyx call-control webhooks (PROVIDERS §3.1–3.2): `{"data":{"record_type":"event","event_type","id",
 * "occurred_at","payload"},"meta":{"attempt","delivered_to"}}`; every payload carries the call's ids and
 * its client_state (base64, or null).
 */
import { createHash } from "node:crypto";
import { derivedUuid } from "../../core/ids.js";
import type { CallInfo, WebhookRequest } from "../types.js";

export const defaultFrom = "+15550100001";
export const defaultTo = "+15550100002";
export const connectionId = "vwh-call-control-app";

/** Telnyx's call_control_id for vwh's call id: `v3:` and an opaque token, as Telnyx's look (the same every time). */
export function callControlId(callId: string): string {
  return callId.startsWith("v3:") ? callId : `v3:${createHash("sha256").update(`call-control:${callId}`).digest("base64url")}`;
}

/** The fields every call-control payload starts with. */
export function callFields(call: CallInfo, clientState: string | null): Record<string, unknown> {
  return {
    call_control_id: callControlId(call.callId),
    call_leg_id: derivedUuid("leg", call.callId),
    call_session_id: derivedUuid("session", call.callId),
    connection_id: connectionId,
    client_state: clientState,
    from: call.from ?? defaultFrom,
    to: call.to ?? defaultTo,
    direction: call.direction === "outbound" ? "outgoing" : "incoming",
  };
}

export function webhookRequest(eventType: string, id: string, occurredAt: Date, payload: Record<string, unknown>, url: URL): WebhookRequest {
  const envelope = {
    data: { record_type: "event", event_type: eventType, id, occurred_at: occurredAt.toISOString(), payload },
    meta: { attempt: 1, delivered_to: url.href },
  };
  return { method: "POST", url, body: Buffer.from(JSON.stringify(envelope)), contentType: "application/json", headers: {} };
}

/** Reads the envelope's identity fields, whatever else the body holds. */
export function envelopeIdentity(body: Buffer): { eventType: string | undefined; callId: string | undefined; eventId: string | undefined } {
  const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  try {
    const data = (JSON.parse(body.toString("utf8")) as { data?: { event_type?: unknown; id?: unknown; payload?: { call_control_id?: unknown } } } | null)?.data;
    return { eventType: text(data?.event_type), callId: text(data?.payload?.call_control_id), eventId: text(data?.id) };
  } catch {
    return { eventType: undefined, callId: undefined, eventId: undefined };
  }
}
