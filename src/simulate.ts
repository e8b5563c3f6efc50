/**
 * The simulated voice platform: replays each flow's events to the handler, signed, and checks every
 * reply; injects the faults real platforms produce (retries, duplicates, reordering, timeouts) from one
 * seeded random source. Knows nothing of the terminal: progress goes to an injected listener.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { checkReply, type Finding } from "./check-reply.js";
import type { DeadLetter } from "./dead-letters.js";
import { deliver, type DeliveryResult, type Transport } from "./delivery.js";
import { expandFlow, type LoadedFlow, type PlannedEvent } from "./flow.js";
import { diffJson } from "./json-diff.js";
import { createRandom, type Random } from "./random.js";
import { classifyAttempt, retryDelayMs, type RetryPolicy } from "./retry-policy.js";
import type { Signer } from "./signing/types.js";
import { vwhVersion } from "./version.js";

export interface EventResult {
  index: number;
  sequence: number;
  eventType: string;
  eventId: string;
  /** The final attempt's status; absent when no reply came (timeout, connection error). */
  status: number | undefined;
  latencyMs: number | undefined;
  attempts: number;
  passed: boolean;
  failures: Finding[];
  warnings: Finding[];
  instructionTypes: string[];
  deadLettered: boolean;
  /** Set when the event was delivered twice (--duplicates). */
  duplicate: { attempt: number; status: number | undefined; passed: boolean } | undefined;
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
  /** Set when --bail stopped the run at the first failure. */
  bailed: boolean;
  seed: number;
  durationMs: number;
}

export interface SimulationListener {
  flowStarted?(flow: LoadedFlow, callId: string): void;
  eventFinished?(flow: LoadedFlow, result: EventResult): void;
}

export interface FaultOptions {
  /** Share of events delivered a second time (0..1). */
  duplicates: number;
  /** Shuffle events within windows of this size (0 or 1: in order). */
  reorderWindow: number;
  seed: number;
  bail: boolean;
}

export interface SimulationOptions {
  target: URL;
  /** Absent only with keepSignatures: recorded requests go out with the headers they came with. */
  signer: Signer | undefined;
  /** Headers that carry the scheme's signature (dropped from recorded requests before re-signing). */
  signatureHeaders: readonly string[];
  keepSignatures?: boolean;
  policy: RetryPolicy;
  faults: FaultOptions;
  budgetMs: number;
  strictLatency: boolean;
  /** Wait each event's after_ms before sending it, as the platform would. */
  realtime: boolean;
  dispatcher: Dispatcher;
  /** How attempts go out (default: undici's `deliver` on `dispatcher`); load mode passes the fast client. */
  transport?: Transport;
  /** Called for each event that exhausted its retries (--dlq). */
  deadLetter?: (entry: DeadLetter) => Promise<void>;
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

type DeliveryTarget = Pick<SimulationOptions, "signer" | "signatureHeaders" | "keepSignatures" | "target">;

/** Recorded headers less hop-by-hop ones and (unless kept) the old signature. */
function forwardedHeaders(planned: PlannedEvent, options: DeliveryTarget): Record<string, string> {
  const headers: Record<string, string> = {};
  const keep = options.keepSignatures === true;
  for (const [name, value] of Object.entries(planned.recordedHeaders ?? {})) {
    if (hopByHop.has(name) || (!keep && options.signatureHeaders.includes(name))) continue;
    headers[name] = value;
  }
  return headers;
}

/** Headers and URL of one attempt: a fresh signature and timestamp each time, the same body. */
export function prepareDelivery(planned: PlannedEvent, options: DeliveryTarget, attempt: number, nowMs: number): OutgoingRequest {
  const headers = forwardedHeaders(planned, options);
  headers["content-type"] = planned.contentType;
  headers["user-agent"] ??= `vwh/${vwhVersion()}`;
  headers["vwh-attempt"] = String(attempt);
  if (options.keepSignatures && planned.recordedHeaders) return { url: options.target, headers };
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

interface Delivered {
  outcome: DeliveryResult;
  attempts: number;
  /** The last attempt failed in a way the platform retries, and no retries were left. */
  exhausted: boolean;
  /** Why the platform stopped retrying early (410). */
  stopReason: string | undefined;
}

async function attempt(planned: PlannedEvent, context: RunContext, number: number): Promise<DeliveryResult> {
  const request = prepareDelivery(planned, context.options, number, context.now());
  return (context.options.transport ?? deliver)({
    url: request.url,
    method: planned.method,
    headers: request.headers,
    body: planned.body,
    timeoutMs: context.options.policy.timeoutMs,
    dispatcher: context.options.dispatcher,
  });
}

/** Delivers with retries: identical bytes and id, a fresh timestamp, signature and attempt number. */
async function deliverWithRetries(planned: PlannedEvent, context: RunContext): Promise<Delivered> {
  const { policy } = context.options;
  for (let number = 1; ; number++) {
    const outcome = await attempt(planned, context, number);
    const decision = classifyAttempt(outcome.ok ? { kind: "response", status: outcome.status, headers: outcome.headers } : { kind: outcome.kind }, context.now());
    if (!decision.retry) return { outcome, attempts: number, exhausted: false, stopReason: decision.reason };
    if (number > policy.retries) return { outcome, attempts: number, exhausted: true, stopReason: undefined };
    await context.wait(retryDelayMs(policy, number, context.jitter, decision.retryAfterMs));
  }
}

function describeFailure(outcome: DeliveryResult): string {
  return outcome.ok ? `status ${outcome.status}` : outcome.message;
}

/** A duplicate must be accepted and, where the platform waits, answered with the same instructions. */
async function checkDuplicate(planned: PlannedEvent, context: RunContext, number: number, firstBody: unknown): Promise<{ result: EventResult["duplicate"]; failures: Finding[] }> {
  const outcome = await attempt(planned, context, number);
  const failures: Finding[] = [];
  if (!outcome.ok) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): ${outcome.message}` });
    return { result: { attempt: number, status: undefined, passed: false }, failures };
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): expected 2xx, got ${outcome.status}` });
  } else if (firstBody !== undefined) {
    let duplicateBody: unknown;
    try {
      duplicateBody = JSON.parse(outcome.body.toString("utf8"));
    } catch {
      duplicateBody = outcome.body.toString("utf8");
    }
    const first = (firstBody as { instructions?: unknown }).instructions;
    const second = (duplicateBody as { instructions?: unknown } | undefined)?.instructions;
    const changes = diffJson(first, second, "instructions");
    if (changes.length) {
      failures.push({
        kind: "idempotency",
        message: `duplicate delivery (attempt ${number}) got different instructions — not idempotent on event_id:\n${changes.map((line) => `  ${line}`).join("\n")}`,
      });
    }
  }
  return { result: { attempt: number, status: outcome.status, passed: failures.length === 0 }, failures };
}

function deadLetterEntry(planned: PlannedEvent, loaded: LoadedFlow, delivered: Delivered, options: SimulationOptions, nowMs: number): DeadLetter {
  const utf8 = planned.body.toString("utf8");
  const isUtf8 = Buffer.from(utf8, "utf8").equals(planned.body);
  const deadAt = new Date(nowMs).toISOString();
  return {
    flow: loaded.file,
    event_type: planned.eventType,
    event_id: planned.eventId,
    call_id: planned.callId,
    sequence: planned.sequence,
    attempts: delivered.attempts,
    last_error: describeFailure(delivered.outcome),
    dead_at: deadAt,
    raw: {
      method: planned.method,
      path: `${options.target.pathname}${options.target.search}`,
      headers: { ...forwardedHeaders(planned, { ...options, keepSignatures: false }), "content-type": planned.contentType },
      body: isUtf8 ? utf8 : planned.body.toString("base64"),
      ...(isUtf8 ? {} : { body_encoding: "base64" as const }),
      received_at: deadAt,
    },
    ...(planned.expect && { expect: planned.expect }),
  };
}

async function runEvent(planned: PlannedEvent, loaded: LoadedFlow, duplicate: boolean, context: RunContext): Promise<EventResult> {
  const { options } = context;
  const delivered = await deliverWithRetries(planned, context);
  const { outcome } = delivered;
  const result: EventResult = {
    index: planned.index,
    sequence: planned.sequence,
    eventType: planned.eventType,
    eventId: planned.eventId,
    status: outcome.ok ? outcome.status : undefined,
    latencyMs: outcome.ok || outcome.kind === "timeout" ? outcome.latencyMs : undefined,
    attempts: delivered.attempts,
    passed: false,
    failures: [],
    warnings: [],
    instructionTypes: [],
    deadLettered: false,
    duplicate: undefined,
  };
  let firstBody: unknown;
  if (!outcome.ok) {
    result.failures.push({ kind: outcome.kind, message: outcome.message });
  } else {
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
    result.failures.push(...check.failures);
    result.warnings.push(...check.warnings);
    result.instructionTypes = check.instructions?.map((instruction) => instruction.type) ?? [];
    if (check.instructions) firstBody = { instructions: check.instructions };
  }
  if (delivered.stopReason) result.failures.push({ kind: "delivery", message: delivered.stopReason });
  if (delivered.exhausted) {
    if (delivered.attempts > 1) result.failures.push({ kind: "delivery", message: `gave up after ${delivered.attempts} attempts` });
    if (options.deadLetter) {
      await options.deadLetter(deadLetterEntry(planned, loaded, delivered, options, context.now()));
      result.deadLettered = true;
    }
  }
  const accepted = outcome.ok && outcome.status >= 200 && outcome.status < 300;
  if (duplicate && accepted) {
    const checked = await checkDuplicate(planned, context, delivered.attempts + 1, firstBody);
    result.duplicate = checked.result;
    result.failures.push(...checked.failures);
  }
  result.passed = result.failures.length === 0;
  return result;
}

/** Delivery order: shuffled within windows of --reorder; bodies keep their original sequence. */
export function deliveryOrder<T>(events: readonly T[], window: number, random: Random): T[] {
  if (window <= 1) return [...events];
  const ordered: T[] = [];
  for (let start = 0; start < events.length; start += window) ordered.push(...random.shuffle(events.slice(start, start + window)));
  return ordered;
}

export interface PlannedCall {
  loaded: LoadedFlow;
  callId: string;
  /** In delivery order (shuffled within --reorder windows). */
  ordered: PlannedEvent[];
  /** Indexes of the events delivered twice (--duplicates). */
  duplicates: ReadonlySet<number>;
}

/** Decides everything random about a call before any delivery, so it does not depend on retries. */
export function planCall(loaded: LoadedFlow, planRandom: Random, faults: FaultOptions, start: Date, overrides: { callId?: string; freshIds?: boolean } = {}): PlannedCall {
  const planned = expandFlow(loaded.flow, { start, ...(overrides.callId && { callId: overrides.callId }), ...(overrides.freshIds && { freshIds: true }) });
  const duplicates = new Set(planned.filter(() => planRandom.chance(faults.duplicates)).map((event) => event.index));
  const ordered = deliveryOrder(planned, faults.reorderWindow, planRandom);
  return { loaded, callId: planned.find((event) => event.callId)?.callId ?? "recorded", ordered, duplicates };
}

export interface CallOutcome {
  passed: boolean;
  /** Why the call stopped early: the target is unreachable, or --bail. */
  stopped: { reason: "unreachable"; message: string } | { reason: "bail" } | undefined;
}

export interface RunContext {
  options: SimulationOptions;
  now: () => number;
  wait: (ms: number) => Promise<unknown>;
  jitter: Random;
}

export function createContext(options: SimulationOptions): RunContext {
  return {
    options,
    now: options.now ?? Date.now,
    wait: options.wait ?? sleep,
    jitter: createRandom((options.faults.seed ^ 0x9e3779b9) >>> 0),
  };
}

/** Delivers one call's events in order, handing each result on as it finishes. */
export async function runCall(call: PlannedCall, context: RunContext, onEvent: (result: EventResult) => void, shouldStop: () => boolean = () => false): Promise<CallOutcome> {
  let passed = true;
  for (const event of call.ordered) {
    if (shouldStop()) break;
    if (context.options.realtime && event.afterMs > 0) await context.wait(event.afterMs);
    const result = await runEvent(event, call.loaded, call.duplicates.has(event.index), context);
    passed &&= result.passed;
    onEvent(result);
    const unreachable = result.failures.find((finding) => finding.kind === "unreachable");
    if (unreachable) return { passed: false, stopped: { reason: "unreachable", message: unreachable.message } };
    if (context.options.faults.bail && !result.passed) return { passed: false, stopped: { reason: "bail" } };
  }
  return { passed, stopped: undefined };
}

export async function runSimulation(flows: readonly LoadedFlow[], options: SimulationOptions): Promise<SimulationResult> {
  const context = createContext(options);
  // Two streams from the one seed: what to duplicate and shuffle is decided before any delivery, so it
  // does not depend on how many retries (and jitter draws) the handler caused.
  const planRandom = createRandom(options.faults.seed);
  const started = context.now();
  const results: FlowResult[] = [];
  let unreachable: string | undefined;
  let bailed = false;

  for (const loaded of flows) {
    const call = planCall(loaded, planRandom, options.faults, new Date(context.now()));
    options.listener?.flowStarted?.(loaded, call.callId);
    const flowResult: FlowResult = { file: loaded.file, name: loaded.flow.name, callId: call.callId, events: [], passed: true };
    results.push(flowResult);
    const outcome = await runCall(call, context, (result) => {
      flowResult.events.push(result);
      options.listener?.eventFinished?.(loaded, result);
    });
    flowResult.passed = outcome.passed;
    if (outcome.stopped?.reason === "unreachable") unreachable = outcome.stopped.message;
    if (outcome.stopped?.reason === "bail") bailed = true;
    if (outcome.stopped) break;
  }
  return { flows: results, unreachable, bailed, seed: options.faults.seed, durationMs: context.now() - started };
}

export interface SimulationSummary {
  flows: number;
  events: number;
  passed: number;
  failed: number;
  overBudget: number;
  retried: number;
  deadLettered: number;
  duplicated: number;
}

export function summarize(result: SimulationResult): SimulationSummary {
  const events = result.flows.flatMap((flow) => flow.events);
  return {
    flows: result.flows.length,
    events: events.length,
    passed: events.filter((event) => event.passed).length,
    failed: events.filter((event) => !event.passed).length,
    overBudget: events.filter((event) => [...event.failures, ...event.warnings].some((finding) => finding.kind === "latency" && finding.message.includes("budget"))).length,
    retried: events.filter((event) => event.attempts > 1).length,
    deadLettered: events.filter((event) => event.deadLettered).length,
    duplicated: events.filter((event) => event.duplicate !== undefined).length,
  };
}

