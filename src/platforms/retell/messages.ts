/**
 * Building Retell requests (docs/platforms/retell.md): call webhooks `{"event", "call": PhoneCallResponse}`, the
 * inbound-call webhook `{"event":"call_inbound","call_inbound":{…}}` and custom-function calls
 * `{"name", "call", "args"}`.
 */
import { createHash } from "node:crypto";

/** Event type vwh gives custom-function requests (Retell's are not "events": they go to the tool's URL). */
export const functionEventType = "custom_function";
export const inboundEventType = "call_inbound";

/** Retell cuts a function's reply at 15 000 characters before the agent sees it. */
export const functionResultLimit = 15_000;

export interface RetellCall {
  callId: string;
  agentId: string;
  agentVersion: number;
  direction: "inbound" | "outbound";
  from: string;
  to: string;
  metadata: unknown;
  dynamicVariables: Record<string, string>;
}

export function newRetellCall(callId: string, from: string | undefined, to: string | undefined, direction: "inbound" | "outbound" | undefined): RetellCall {
  const agent = createHash("sha256").update(`agent:${callId}`).digest("hex").slice(0, 24);
  return {
    callId,
    agentId: `agent_${agent}`,
    agentVersion: 1,
    direction: direction ?? "inbound",
    from: from ?? "+15550100001",
    to: to ?? "+15550100002",
    metadata: {},
    dynamicVariables: {},
  };
}

export interface Utterance {
  role: "agent" | "user";
  content: string;
}

export interface CallProgress {
  status: "registered" | "ongoing" | "ended";
  startMs: number | undefined;
  endMs?: number;
  disconnectionReason?: string;
  transcript: readonly Utterance[];
  analysed?: boolean;
}

/** The PhoneCallResponse as Retell sends it at this point of the call. */
export function callObject(call: RetellCall, progress: CallProgress): Record<string, unknown> {
  const transcript = progress.transcript.map((utterance) => `${utterance.role === "agent" ? "Agent" : "User"}: ${utterance.content}`).join("\n");
  return {
    call_type: "phone_call",
    from_number: call.from,
    to_number: call.to,
    direction: call.direction,
    call_id: call.callId,
    agent_id: call.agentId,
    agent_version: call.agentVersion,
    call_status: progress.status,
    metadata: call.metadata,
    retell_llm_dynamic_variables: call.dynamicVariables,
    ...(progress.startMs !== undefined && { start_timestamp: progress.startMs }),
    ...(progress.endMs !== undefined && { end_timestamp: progress.endMs }),
    ...(progress.endMs !== undefined && progress.startMs !== undefined && { duration_ms: progress.endMs - progress.startMs }),
    transcript,
    transcript_object: progress.transcript.map((utterance) => ({ role: utterance.role, content: utterance.content, words: [] })),
    ...(progress.endMs !== undefined && {
      recording_url: `https://dxc03zgurdly9.cloudfront.net/${call.callId}/recording.wav`,
      public_log_url: `https://dxc03zgurdly9.cloudfront.net/${call.callId}/public.log`,
      disconnection_reason: progress.disconnectionReason,
    }),
    ...(progress.analysed && {
      call_analysis: {
        call_summary: `The caller spoke ${progress.transcript.filter((utterance) => utterance.role === "user").length} time(s); the call ended (${progress.disconnectionReason}).`,
        in_voicemail: false,
        user_sentiment: "Neutral",
        call_successful: true,
        custom_analysis_data: {},
      },
    }),
  };
}

export function callWebhookBody(event: string, call: RetellCall, progress: CallProgress, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ event, call: callObject(call, progress), ...extra }));
}

export function inboundBody(call: RetellCall, extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      event: inboundEventType,
      call_inbound: { agent_id: call.agentId, agent_version: call.agentVersion, from_number: call.from, to_number: call.to, call_id: call.callId, ...extra },
    }),
  );
}

export function functionBody(name: string, call: RetellCall, progress: CallProgress, args: Record<string, unknown>): Buffer {
  return Buffer.from(JSON.stringify({ name, call: callObject(call, progress), args }));
}

/** Event type, call id and a dedup key (Retell's call_id for call_inbound; the call id and event otherwise). */
export function identifyRetell(body: Buffer): { eventType: string | undefined; callId: string | undefined; eventId: string | undefined } {
  let value: Record<string, any> | undefined;
  try {
    const parsed: unknown = JSON.parse(body.toString("utf8"));
    value = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, any>) : undefined;
  } catch {
    value = undefined;
  }
  if (!value) return { eventType: undefined, callId: undefined, eventId: undefined };
  const text = (item: unknown) => (typeof item === "string" && item ? item : undefined);
  const eventType = text(value["event"]) ?? (text(value["name"]) && value["args"] !== undefined ? functionEventType : undefined);
  const callId = text(value["call"]?.call_id) ?? text(value["call_inbound"]?.call_id);
  const digest = createHash("sha256").update(body).digest("hex").slice(0, 16);
  return {
    eventType,
    callId,
    eventId: eventType && callId ? `${callId}:${eventType === functionEventType ? `${text(value["name"])}:${digest}` : eventType}` : undefined,
  };
}
