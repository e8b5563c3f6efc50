/** The live log of `vwh tunnel`: one line per request for people, one JSON object per line for scripts. */
import type { ChalkInstance } from "chalk";

export interface RequestObservation {
  time: Date;
  method: string;
  path: string;
  eventType: string | undefined;
  callId: string | undefined;
  sequence: number | undefined;
  status: number;
  latencyMs: number;
  bytes: number;
  /** undefined when no secret was given. */
  signature: { valid: true } | { valid: false; reason: string } | undefined;
  proxyError: string | undefined;
}

/** What the log shows of a body: vwh envelopes, and Twilio-style form posts. */
export function describeBody(body: Buffer, contentType: string | undefined): Pick<RequestObservation, "eventType" | "callId" | "sequence"> {
  const text = body.toString("utf8");
  try {
    const value = JSON.parse(text) as Record<string, unknown>;
    const pick = (key: string) => (typeof value?.[key] === "string" ? (value[key] as string) : undefined);
    return {
      eventType: pick("event_type") ?? pick("type") ?? pick("event"),
      callId: pick("call_id") ?? pick("CallSid"),
      sequence: typeof value?.sequence === "number" ? value.sequence : undefined,
    };
  } catch {
    if (/x-www-form-urlencoded/i.test(contentType ?? "")) {
      const params = new URLSearchParams(text);
      return { eventType: params.get("CallStatus") ?? params.get("StatusCallbackEvent") ?? undefined, callId: params.get("CallSid") ?? undefined, sequence: undefined };
    }
    return { eventType: undefined, callId: undefined, sequence: undefined };
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

export function formatRequestLine(observation: RequestObservation, colors: ChalkInstance): string {
  const time = observation.time;
  const clock = `${pad2(time.getHours())}:${pad2(time.getMinutes())}:${pad2(time.getSeconds())}`;
  const status = observation.status >= 500 ? colors.red(String(observation.status)) : observation.status >= 400 ? colors.yellow(String(observation.status)) : colors.green(String(observation.status));
  const call = observation.callId ? `${observation.callId}${observation.sequence !== undefined ? ` #${observation.sequence}` : ""}` : "";
  const signature =
    observation.signature === undefined ? "" : observation.signature.valid ? colors.green("  ✓ signature") : colors.red(`  ✗ signature: ${observation.signature.reason}`);
  const proxyError = observation.proxyError ? colors.red(`  (${observation.proxyError})`) : "";
  return `${colors.dim(clock)}  ${observation.method.padEnd(6)} ${observation.path}  ${colors.bold(observation.eventType ?? "-")}  ${colors.dim(call)}  ${status}  ${Math.round(observation.latencyMs)} ms${signature}${proxyError}`;
}

export function toJsonLine(observation: RequestObservation): string {
  return JSON.stringify({
    event: "request",
    time: observation.time.toISOString(),
    method: observation.method,
    path: observation.path,
    event_type: observation.eventType ?? null,
    call_id: observation.callId ?? null,
    sequence: observation.sequence ?? null,
    status: observation.status,
    latency_ms: observation.latencyMs,
    bytes: observation.bytes,
    signature: observation.signature === undefined ? null : observation.signature.valid ? { valid: true, reason: null } : { valid: false, reason: observation.signature.reason },
    proxy_error: observation.proxyError ?? null,
  });
}
