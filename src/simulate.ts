/**
 * The simulated voice platform: replays each flow's events in order to the handler, signed, and checks
 * every reply. Knows nothing of the terminal: progress goes to an injected listener.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { checkReply, type Finding } from "./check-reply.js";
import { deliver } from "./delivery.js";
import { expandFlow, type LoadedFlow, type PlannedEvent } from "./flow.js";
import type { Signer } from "./signing/types.js";
import { vwhVersion } from "./version.js";

export interface EventResult {
  index: number;
  sequence: number;
  eventType: string;
  eventId: string;
  /** Absent when no reply came (timeout, connection error). */
  status: number | undefined;
  latencyMs: number | undefined;
  attempts: number;
  passed: boolean;
  failures: Finding[];
  warnings: Finding[];
  instructionTypes: string[];
}

export interface FlowResult {
  file: string;
  name: string;
  callId: string;
  events: EventResult[];
  passed: boolean;
}

export interface SimulationResult {
  flows: FlowResult[];
  /** Set when the target did not answer at all; the run stopped there (exit 3). */
  unreachable: string | undefined;
  durationMs: number;
}

export interface SimulationListener {
  flowStarted?(flow: LoadedFlow, callId: string): void;
  eventFinished?(flow: LoadedFlow, result: EventResult): void;
}

export interface SimulationOptions {
  target: URL;
  /** Absent only with keepSignatures: recorded requests go out with the headers they came with. */
  signer: Signer | undefined;
  /** Headers that carry the scheme's signature (dropped from recorded requests before re-signing). */
  signatureHeaders: readonly string[];
  keepSignatures?: boolean;
  timeoutMs: number;
  budgetMs: number;
  strictLatency: boolean;
  /** Wait each event's after_ms before sending it, as the platform would. */
  realtime: boolean;
  dispatcher: Dispatcher;
  /** Wall clock in ms (injectable for tests). */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
  listener?: SimulationListener;
}

// Never forwarded from a recording: they describe the old connection, not the request.
const hopByHop = new Set(["host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection", "expect"]);

export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
}

/** Headers and URL of one attempt: a fresh signature and timestamp each time, the same body. */
export function prepareDelivery(planned: PlannedEvent, options: Pick<SimulationOptions, "signer" | "signatureHeaders" | "keepSignatures" | "target">, attempt: number, nowMs: number): OutgoingRequest {
  const headers: Record<string, string> = {};
  const keep = options.keepSignatures === true;
  for (const [name, value] of Object.entries(planned.recordedHeaders ?? {})) {
    if (hopByHop.has(name) || (!keep && options.signatureHeaders.includes(name))) continue;
    headers[name] = value;
  }
  headers["content-type"] = planned.contentType;
  headers["user-agent"] ??= `vwh/${vwhVersion()}`;
  headers["vwh-attempt"] = String(attempt);
  if (keep && planned.recordedHeaders) return { url: options.target, headers };
  const signed = options.signer!.sign({
    id: planned.eventId,
    timestamp: Math.floor(nowMs / 1000),
    body: planned.body,
    method: planned.method,
    url: options.target.href,
    contentType: planned.contentType,
  });
  return { url: signed.url === options.target.href ? options.target : new URL(signed.url), headers: { ...headers, ...signed.headers } };
}

async function runEvent(planned: PlannedEvent, options: SimulationOptions, now: () => number): Promise<EventResult> {
  const base = { index: planned.index, sequence: planned.sequence, eventType: planned.eventType, eventId: planned.eventId, attempts: 1 };
  const request = prepareDelivery(planned, options, 1, now());
  const outcome = await deliver({
    url: request.url,
    method: planned.method,
    headers: request.headers,
    body: planned.body,
    timeoutMs: options.timeoutMs,
    dispatcher: options.dispatcher,
  });
  if (!outcome.ok) {
    return {
      ...base,
      status: undefined,
      latencyMs: outcome.kind === "timeout" ? outcome.latencyMs : undefined,
      passed: false,
      failures: [{ kind: outcome.kind, message: outcome.message }],
      warnings: [],
      instructionTypes: [],
    };
  }
  const check = checkReply({
    eventType: planned.eventType,
    expect: planned.expect,
    status: outcome.status,
    headers: outcome.headers,
    body: outcome.body,
    latencyMs: outcome.latencyMs,
    budgetMs: options.budgetMs,
    strictLatency: options.strictLatency,
  });
  return {
    ...base,
    status: outcome.status,
    latencyMs: outcome.latencyMs,
    passed: check.failures.length === 0,
    failures: check.failures,
    warnings: check.warnings,
    instructionTypes: check.instructions?.map((instruction) => instruction.type) ?? [],
  };
}

export async function runSimulation(flows: readonly LoadedFlow[], options: SimulationOptions): Promise<SimulationResult> {
  const now = options.now ?? Date.now;
  const wait = options.wait ?? sleep;
  const started = now();
  const results: FlowResult[] = [];
  let unreachable: string | undefined;

  for (const loaded of flows) {
    const planned = expandFlow(loaded.flow, { start: new Date(now()) });
    const callId = planned.find((event) => event.callId)?.callId ?? "recorded";
    options.listener?.flowStarted?.(loaded, callId);
    const flowResult: FlowResult = { file: loaded.file, name: loaded.flow.name, callId, events: [], passed: true };
    results.push(flowResult);
    for (const event of planned) {
      if (options.realtime && event.afterMs > 0) await wait(event.afterMs);
      const result = await runEvent(event, options, now);
      flowResult.events.push(result);
      flowResult.passed &&= result.passed;
      options.listener?.eventFinished?.(loaded, result);
      const unreachableFailure = result.failures.find((finding) => finding.kind === "unreachable");
      if (unreachableFailure) {
        unreachable = unreachableFailure.message;
        break;
      }
    }
    if (unreachable) break;
  }
  return { flows: results, unreachable, durationMs: now() - started };
}

export interface SimulationSummary {
  flows: number;
  events: number;
  passed: number;
  failed: number;
  overBudget: number;
}

export function summarize(result: SimulationResult): SimulationSummary {
  const events = result.flows.flatMap((flow) => flow.events);
  return {
    flows: result.flows.length,
    events: events.length,
    passed: events.filter((event) => event.passed).length,
    failed: events.filter((event) => !event.passed).length,
    overBudget: events.filter((event) => [...event.failures, ...event.warnings].some((finding) => finding.kind === "latency" && finding.message.includes("budget"))).length,
  };
}
