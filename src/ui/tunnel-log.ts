/** The live log of `vwh tunnel`: one line per request for people, one JSON object per line for scripts. */
import type { ChalkInstance } from "chalk";
import type { ReplySummary } from "../tunnel/reply-summary.js";
import { terminalSafe } from "./terminal-text.js";

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
  /** The handler's reply, when it gave one. */
  reply: ReplySummary | undefined;
  /** Set for a request the inspector's Replay sent. */
  replayOf?: number | undefined;
}

function describeReply(reply: ReplySummary): string {
  if (reply.bytes === 0) return "empty reply";
  const what = reply.actions ? `[${reply.actions.map(terminalSafe).join(", ")}]` : reply.excerpt ? terminalSafe(JSON.stringify(reply.excerpt)) : "";
  const type = reply.contentType ? terminalSafe(reply.contentType.split(";")[0]!.trim()) : "no content type";
  return `${type} ${reply.bytes} B${reply.truncated ? " (streamed; the first 16 MiB kept)" : ""}${what ? ` ${what}` : ""}`;
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** One line per request; everything taken from the request or the reply is printed escaped (terminalSafe). */
export function formatRequestLine(observation: RequestObservation, colors: ChalkInstance): string {
  const time = observation.time;
  const clock = `${pad2(time.getHours())}:${pad2(time.getMinutes())}:${pad2(time.getSeconds())}`;
  const status =
    observation.status >= 500
      ? colors.red(String(observation.status))
      : observation.status >= 400
        ? colors.yellow(String(observation.status))
        : colors.green(String(observation.status));
  const call = observation.callId ? `${terminalSafe(observation.callId)}${observation.sequence !== undefined ? ` #${observation.sequence}` : ""}` : "";
  const signature =
    observation.signature === undefined
      ? ""
      : observation.signature.valid
        ? colors.green("  ✓ signature")
        : colors.red(`  ✗ signature: ${terminalSafe(observation.signature.reason)}`);
  const proxyError = observation.proxyError ? colors.red(`  (${terminalSafe(observation.proxyError)})`) : "";
  const reply = observation.reply ? colors.dim(`  → ${describeReply(observation.reply)}`) : "";
  const replay = observation.replayOf !== undefined ? colors.cyan(`  (replay of #${observation.replayOf})`) : "";
  return `${colors.dim(clock)}  ${terminalSafe(observation.method).padEnd(6)} ${terminalSafe(observation.path)}  ${colors.bold(observation.eventType === undefined ? "-" : terminalSafe(observation.eventType))}  ${colors.dim(call)}  ${status}  ${Math.round(observation.latencyMs)} ms${signature}${proxyError}${reply}${replay}`;
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
    signature:
      observation.signature === undefined
        ? null
        : observation.signature.valid
          ? { valid: true, reason: null }
          : { valid: false, reason: observation.signature.reason },
    proxy_error: observation.proxyError ?? null,
    reply: observation.reply
      ? {
          status: observation.reply.status,
          content_type: observation.reply.contentType ?? null,
          bytes: observation.reply.bytes,
          ...(observation.reply.truncated && { truncated: true }),
          actions: observation.reply.actions ?? null,
          excerpt: observation.reply.excerpt ?? null,
        }
      : null,
    ...(observation.replayOf !== undefined && { replay_of: observation.replayOf }),
  });
}
