/**
 * What Teler sends (docs/platforms/teler.md). UNVERIFIED: neither the SDK nor the docs show the flow_url request
 * body or the status callbacks; these follow the team's notes ({call_id, account_id, from_number,
 * to_number, direction} and {event, account_id, call_app_id, call_id, data}) and are marked so in the README.
 */
import { createHash } from "node:crypto";

export const flowEventType = "flow";
export const statusEvents = ["call.initiated", "call.ringing", "call.answered", "call.completed"] as const;

const uuid = (label: string, seed: string) => {
  const hex = createHash("sha256").update(`${label}:${seed}`).digest("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-8${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
};

export interface TelerCall {
  callId: string;
  accountId: string;
  callAppId: string;
  from: string;
  to: string;
  direction: "inbound" | "outbound";
}

export function newTelerCall(callId: string, from: string | undefined, to: string | undefined, direction: "inbound" | "outbound" | undefined): TelerCall {
  return {
    callId,
    accountId: uuid("account", callId),
    callAppId: uuid("call-app", callId),
    from: from ?? "+15550100001",
    to: to ?? "+15550100002",
    direction: direction ?? "outbound",
  };
}

export function flowBody(call: TelerCall, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({ call_id: call.callId, account_id: call.accountId, from_number: call.from, to_number: call.to, direction: call.direction, ...extra }),
  );
}

export function statusBody(call: TelerCall, event: string, at: Date, data: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      event,
      account_id: call.accountId,
      call_app_id: call.callAppId,
      call_id: call.callId,
      data: { from_number: call.from, to_number: call.to, timestamp: at.toISOString(), ...data },
    }),
  );
}

export function identifyTeler(body: Buffer): { eventType: string | undefined; callId: string | undefined; eventId: string | undefined } {
  try {
    const value = JSON.parse(body.toString("utf8")) as Record<string, unknown> | null;
    if (!value || typeof value !== "object") return { eventType: undefined, callId: undefined, eventId: undefined };
    const callId = typeof value["call_id"] === "string" ? value["call_id"] : undefined;
    const eventType = typeof value["event"] === "string" ? value["event"] : callId && typeof value["from_number"] === "string" ? flowEventType : undefined;
    return { eventType, callId, eventId: eventType && callId ? `${callId}:${eventType}` : undefined };
  } catch {
    return { eventType: undefined, callId: undefined, eventId: undefined };
  }
}
