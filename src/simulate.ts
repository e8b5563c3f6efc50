/**
 * The simulated voice platform: replays each flow's events to the handler, signed, and checks every
 * reply; injects the faults real platforms produce (retries, duplicates, reordering, timeouts) from one
 * seeded random source. Knows nothing of the terminal: progress goes to an injected listener.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import type { Dispatcher } from "undici";
import { checkReply } from "./check-reply.js";
import { compareReplies } from "./compare-replies.js";
import type { ScriptStep } from "./caller-script.js";
import type { Finding } from "./findings.js";
import type { DeadLetter } from "./dead-letters.js";
import { deliver, type DeliveryResult, type Transport } from "./delivery.js";
import { expandFlow, flowBody, type LoadedFlow, type PlannedEvent } from "./flow.js";
import type { TurnMedia } from "./media/script.js";
import type { ParsedReply, PlatformRun, RunSetup, WebhookRequest } from "./platforms/types.js";
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
  /** The normalised actions of the reply (instruction types on the vwh platform). */
  instructionTypes: string[];
  deadLettered: boolean;
  /** Caller scripts: the index of the step whose turn this webhook belongs to. */
  step: number | undefined;
  /** Set when the event was delivered twice (--duplicates). */
  duplicate: { attempt: number; status: number | undefined; passed: boolean } | undefined;
}

export interface TurnResult {
  /** Index of the script step. */
  step: number;
  /** `connect`, `say "…"`, `press 1`, `hangup (script ran out)`. */
  label: string;
  actions: string[];
  /** How the call ended in this turn, if it did. */
  ended: string | undefined;
  failures: Finding[];
  passed: boolean;
  /** Set when the turn ran on a media stream: its figures (time to first audio, agent audio, interruption). */
  media?: TurnMedia;
}

export interface FlowResult {
  file: string;
  name: string;
  platform: string;
  callId: string;
  events: EventResult[];
  /** Caller scripts only: each step's turn, in order. */
  turns: TurnResult[] | undefined;
  passed: boolean;
}

export interface SimulationResult {
  flows: FlowResult[];
  /** Set when the target did not answer at all; the run stopped there (exit 3). */
  unreachable: string | undefined;
  /** Set when --bail stopped the run at the first failure. */
  bailed: boolean;
  /** Set when the run was stopped (Ctrl-C) before it finished: the results are partial. */
  interrupted: boolean;
  seed: number;
  durationMs: number;
}

export interface SimulationListener {
  flowStarted?(flow: LoadedFlow, callId: string): void;
  eventFinished?(flow: LoadedFlow, result: EventResult): void;
  turnStarted?(flow: LoadedFlow, step: number, label: string): void;
  turnFinished?(flow: LoadedFlow, turn: TurnResult): void;
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
  /** The URL the platform is configured with, which it signs (the tunnel's public URL); default: target. */
  publicUrl?: URL;
  /** Caller scripts: a call over this many webhooks fails as a loop. */
  maxHops?: number;
  /** Platform settings from flags (a script's own `settings` fill the rest). */
  platformSettings?: Readonly<Record<string, unknown>>;
  /** Per platform id: its run-level resources (`Platform.openRun`), opened by the caller; else the run opens them. */
  platformRuns?: Readonly<Record<string, PlatformRun>>;
  /** Absent only with keepSignatures: recorded requests go out with the headers they came with. */
  signer: Signer | undefined;
  /** Headers that carry the scheme's signature (dropped from recorded requests before re-signing). */
  signatureHeaders: readonly string[];
  /** Per platform id: its own default scheme, when --scheme was not given (a flow's platform decides). */
  platformSigning?: Readonly<Record<string, PlatformSigning>>;
  /** Stops the run (Ctrl-C): in-flight requests and waits are abandoned, finished events are kept. */
  stop?: AbortSignal;
  keepSignatures?: boolean;
  /** Compare each reply with the one recorded beside the request (--compare-replies). */
  compareReplies?: boolean;
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
  /** Wall clock in ms, also timing each reply's latency (injectable for tests: a fake clock makes latency exact). */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
  /** Media streams: after each 20 ms, wait until the agent has read it (ping/pong), so a fake clock gives the same figures every run. */
  mediaLockstep?: boolean;
  listener?: SimulationListener;
}

// Never forwarded from a recording: they describe the old connection, not the request.
const hopByHop = new Set(["host", "content-length", "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-authorization", "proxy-connection", "expect"]);

/** Thrown inside a call when `stop` fires; the webhook in flight has no result. */
class Interrupted extends Error {}

function throwIfStopped(stop: AbortSignal | undefined): void {
  if (stop?.aborted) throw new Interrupted("interrupted");
}

export interface PlatformSigning {
  signer: Signer | undefined;
  signatureHeaders: readonly string[];
}

export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
}

type DeliveryTarget = Pick<SimulationOptions, "signer" | "signatureHeaders" | "keepSignatures" | "target" | "publicUrl">;

/** Recorded headers less hop-by-hop ones and (unless kept) the old signature; or the platform's own. */
function forwardedHeaders(planned: PlannedEvent, options: DeliveryTarget): Record<string, string> {
  const headers: Record<string, string> = { ...planned.platformHeaders };
  if (planned.recordedHeaders === undefined) return headers;
  const keep = options.keepSignatures === true;
  for (const [name, value] of Object.entries(planned.recordedHeaders)) {
    if (hopByHop.has(name) || (!keep && options.signatureHeaders.includes(name))) continue;
    headers[name] = value;
  }
  return headers;
}

/**
 * Where a request the platform addresses to `addressed` really goes. The platform knows the public URL
 * (what the handler behind a tunnel sees, and what it signs); vwh sends to --url. The configured URL maps
 * onto --url, another path on the public origin onto the same path at --url's origin, and any other
 * origin is not followed: vwh only ever talks to the handler it was pointed at.
 */
export function deliveryUrl(addressed: URL, options: Pick<SimulationOptions, "target" | "publicUrl">): URL | undefined {
  const publicUrl = options.publicUrl ?? options.target;
  if (addressed.href === publicUrl.href) return new URL(options.target.href);
  if (addressed.origin !== publicUrl.origin && addressed.origin !== options.target.origin) return undefined;
  return new URL(`${addressed.pathname}${addressed.search}`, options.target.origin);
}

/**
 * Where a recorded request is replayed (issue 11, defect 4): its recorded path and query on --url's
 * origin, unless --url has a path (or query) of its own, which then wins. Only an origin-form path is
 * kept, and it is appended to the origin as text, so a recording can never send a replay elsewhere.
 */
export function replayUrl(target: URL, recordedPath: string | undefined): URL {
  const targetHasPath = target.pathname !== "/" || target.search !== "";
  if (targetHasPath || recordedPath === undefined || !recordedPath.startsWith("/")) return target;
  return new URL(`${target.origin}${recordedPath}`);
}

/** Headers and URL of one attempt: a fresh signature and timestamp each time, the same body. */
export function prepareDelivery(planned: PlannedEvent, options: DeliveryTarget, attempt: number, nowMs: number): OutgoingRequest {
  const headers = forwardedHeaders(planned, options);
  // A GET carries no body, so no content type (Twilio's GET webhooks put their parameters in the query).
  if (planned.method !== "GET" || planned.body.length > 0) headers["content-type"] = planned.contentType;
  headers["user-agent"] ??= userAgent();
  headers["vwh-attempt"] = String(attempt);
  // Built requests go where the platform addressed them; recorded ones to their recorded path (issue 11).
  const addressed = planned.request?.url ?? replayUrl(options.publicUrl ?? options.target, planned.recordedPath);
  // The configured URL itself (nearly every webhook) is sent to --url as is: no URL to build per request.
  let url = planned.request ? (addressed.href === (options.publicUrl ?? options.target).href ? options.target : (deliveryUrl(addressed, options) ?? options.target)) : replayUrl(options.target, planned.recordedPath);
  if (options.keepSignatures && planned.recordedHeaders) return { url, headers };
  const signed = options.signer!.sign({
    id: planned.eventId,
    timestamp: Math.floor(nowMs / 1000),
    body: planned.body,
    method: planned.method,
    url: addressed.href,
    contentType: planned.contentType,
  });
  // Schemes that put signature material in the URL (Twilio's bodySHA256) change its query (on a copy:
  // the URL above may be the run's own).
  if (signed.url !== addressed.href) {
    url = new URL(url.href);
    url.search = new URL(signed.url).search;
  }
  return { url, headers: Object.assign(headers, signed.headers) };
}

let cachedUserAgent: string | undefined;
const userAgent = () => (cachedUserAgent ??= `vwh/${vwhVersion()}`);

interface Delivered {
  outcome: DeliveryResult;
  attempts: number;
  /** The last attempt failed in a way the platform retries, and no retries were left. */
  exhausted: boolean;
  /** Why the platform stopped retrying early (410). */
  stopReason: string | undefined;
}

/** Sends one attempt; the caller checks `stop` once it settles (no async frame of its own: load mode sends millions). */
function attempt(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, number: number): Promise<DeliveryResult> {
  const request = prepareDelivery(planned, deliveryTarget(context, loaded.platform.id), number, context.now());
  return (context.options.transport ?? deliver)({
    url: request.url,
    method: planned.method,
    headers: request.headers,
    body: planned.body,
    timeoutMs: context.options.policy.timeoutMs,
    dispatcher: context.options.dispatcher,
    stop: context.options.stop,
    now: context.now,
  });
}

/** What attempt `number` settled: the delivery, or (with retries left) the wait in ms before the next attempt. */
function afterAttempt(outcome: DeliveryResult, number: number, context: RunContext): Delivered | number {
  // Below 400 no platform retries (classifyAttempt says so too): the common case, without its objects.
  if (outcome.ok && outcome.status < 400) return { outcome, attempts: number, exhausted: false, stopReason: undefined };
  const decision = classifyAttempt(outcome.ok ? { kind: "response", status: outcome.status, headers: outcome.headers } : { kind: outcome.kind }, context.now());
  if (!decision.retry) return { outcome, attempts: number, exhausted: false, stopReason: decision.reason };
  const { policy } = context.options;
  if (number > policy.retries) return { outcome, attempts: number, exhausted: true, stopReason: undefined };
  return retryDelayMs(policy, number, context.jitter, decision.retryAfterMs);
}

/** Attempts 2, 3 … of a delivery (identical bytes and id; a fresh timestamp, signature and attempt number), each after its wait. */
async function retry(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, firstWaitMs: number): Promise<Delivered> {
  let waitMs = firstWaitMs;
  for (let number = 2; ; number++) {
    await context.wait(waitMs);
    throwIfStopped(context.options.stop);
    const outcome = await attempt(planned, loaded, context, number);
    throwIfStopped(context.options.stop);
    const next = afterAttempt(outcome, number, context);
    if (typeof next !== "number") return next;
    waitMs = next;
  }
}

function describeFailure(outcome: DeliveryResult): string {
  return outcome.ok ? `status ${outcome.status}` : outcome.message;
}

/** A duplicate must be accepted and, where the platform waits, answered with the same instructions. */
/** A duplicate must be accepted and, where the platform acts on the reply, answered with the same actions. */
async function checkDuplicate(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, number: number, first: { parsed: ParsedReply; request: WebhookRequest } | undefined): Promise<{ result: EventResult["duplicate"]; failures: Finding[] }> {
  const outcome = await attempt(planned, loaded, context, number);
  throwIfStopped(context.options.stop);
  const failures: Finding[] = [];
  if (!outcome.ok) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): ${outcome.message}` });
    return { result: { attempt: number, status: undefined, passed: false }, failures };
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): expected 2xx, got ${outcome.status}` });
  } else if (first !== undefined) {
    const second = loaded.platform.parseReply(
      { status: outcome.status, headers: outcome.headers, body: outcome.body },
      { eventType: planned.eventType, waits: true, expectsActions: true, request: first.request },
    );
    const changes = diffJson(first.parsed.actions, second.actions, "instructions");
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

export interface DeliveredEvent {
  result: EventResult;
  /** The reply as the platform read it, when there was a successful reply to read. */
  parsed: ParsedReply | undefined;
  outcome: DeliveryResult;
}

/** Delivers one webhook (retries, dead letters, a duplicate) and checks its reply. */
export async function deliverAndCheck(planned: PlannedEvent, loaded: LoadedFlow, duplicate: boolean, context: RunContext, step?: number): Promise<DeliveredEvent> {
  // Kept small on purpose: an async function's frame holds all its locals, and load mode runs this
  // for every webhook. The first attempt settles nearly every delivery; only a retry enters the loop.
  const outcome = await attempt(planned, loaded, context, 1);
  throwIfStopped(context.options.stop);
  const first = afterAttempt(outcome, 1, context);
  const delivered = typeof first === "number" ? await retry(planned, loaded, context, first) : first;
  const checked = checkDelivered(planned, loaded, context, delivered, step);
  const deadLetter = delivered.exhausted && context.options.deadLetter !== undefined;
  return deadLetter || (duplicate && accepted(delivered.outcome)) ? finishDelivered(planned, loaded, duplicate, context, delivered, checked) : checked;
}

const accepted = (outcome: DeliveryResult) => outcome.ok && outcome.status >= 200 && outcome.status < 300;

/** The event's result from its delivery: the reply checked, how delivery went. */
function checkDelivered(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, delivered: Delivered, step: number | undefined): DeliveredEvent {
  const { options } = context;
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
    step,
    duplicate: undefined,
  };
  let parsed: ParsedReply | undefined;
  if (!outcome.ok) {
    result.failures.push({ kind: outcome.kind, message: outcome.message });
  } else {
    const check = checkReply({
      platform: loaded.platform,
      eventType: planned.eventType,
      request: planned.request,
      expect: planned.expect,
      status: outcome.status,
      headers: outcome.headers,
      body: outcome.body,
      latencyMs: outcome.latencyMs,
      budgetMs: options.budgetMs,
      strictLatency: options.strictLatency,
    });
    result.failures = check.failures;
    result.warnings = check.warnings;
    parsed = check.parsed;
    if (parsed) result.instructionTypes = parsed.actions.map((action) => action.type);
    if (options.compareReplies) {
      if (planned.recordedResponse) result.failures.push(...compareReplies(planned.recordedResponse, outcome));
      else result.warnings.push({ kind: "snapshot", message: "no recorded reply to compare with (recorded before vwh kept replies)" });
    }
  }
  if (delivered.stopReason) result.failures.push({ kind: "delivery", message: delivered.stopReason });
  if (delivered.exhausted && delivered.attempts > 1) result.failures.push({ kind: "delivery", message: `gave up after ${delivered.attempts} attempts` });
  result.passed = result.failures.length === 0;
  return { result, parsed, outcome };
}

/** What waits on more I/O after the check: the dead letter of an exhausted event, the duplicate delivery. */
async function finishDelivered(planned: PlannedEvent, loaded: LoadedFlow, duplicate: boolean, context: RunContext, delivered: Delivered, checked: DeliveredEvent): Promise<DeliveredEvent> {
  const { options } = context;
  const { result, parsed, outcome } = checked;
  if (delivered.exhausted && options.deadLetter) {
    await options.deadLetter(deadLetterEntry(planned, loaded, delivered, options, context.now()));
    result.deadLettered = true;
  }
  if (duplicate && accepted(outcome)) {
    const readable = parsed && !parsed.failures.some((finding) => finding.kind === "schema" || finding.kind === "reply") ? parsed : undefined;
    const second = await checkDuplicate(planned, loaded, context, delivered.attempts + 1, readable && { parsed: readable, request: planned.request ?? placeholderRequest(planned) });
    result.duplicate = second.result;
    result.failures.push(...second.failures);
  }
  result.passed = result.failures.length === 0;
  return checked;
}

function placeholderRequest(planned: PlannedEvent): WebhookRequest {
  return { method: planned.method === "GET" ? "GET" : "POST", url: new URL("http://recorded.invalid/"), body: planned.body, contentType: planned.contentType, headers: {} };
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

const noDuplicates: ReadonlySet<number> = new Set();

/** Decides everything random about a call before any delivery, so it does not depend on retries. */
export function planCall(loaded: LoadedFlow, planRandom: Random, options: Pick<SimulationOptions, "faults" | "target" | "publicUrl">, start: Date, overrides: CallOverrides = {}): PlannedCall {
  const { faults } = options;
  const url = options.publicUrl ?? options.target;
  const planned = expandFlow(loaded, { start, url, callId: overrides.callId || undefined, freshIds: overrides.freshIds === true });
  // No draws are taken without duplicates or reordering (chance(0) draws none), so skipping the work keeps seeded runs identical.
  const duplicates = faults.duplicates > 0 ? new Set(planned.filter(() => planRandom.chance(faults.duplicates)).map((event) => event.index)) : noDuplicates;
  const ordered = faults.reorderWindow > 1 ? deliveryOrder(planned, faults.reorderWindow, planRandom) : planned;
  return { loaded, callId: planned.find((event) => event.callId)?.callId ?? "recorded", ordered, duplicates };
}

export interface CallOverrides {
  callId?: string;
  freshIds?: boolean;
}

export interface CallOutcome {
  passed: boolean;
  /** Why the call stopped early: the target is unreachable, or --bail. */
  stopped: { reason: "unreachable"; message: string } | { reason: "bail" } | { reason: "interrupted" } | undefined;
}

export interface RunContext {
  options: SimulationOptions;
  now: () => number;
  wait: (ms: number) => Promise<unknown>;
  jitter: Random;
  /** Per platform id: the options with that platform's own signing (built once, not per attempt). */
  targets: Map<string, DeliveryTarget>;
}

/** How a platform's webhooks are signed and addressed in this run: its own scheme, else the run's. */
function deliveryTarget(context: RunContext, platformId: string): DeliveryTarget {
  let target = context.targets.get(platformId);
  if (target === undefined) {
    const signing = context.options.platformSigning?.[platformId];
    target = signing ? { ...context.options, ...signing } : context.options;
    context.targets.set(platformId, target);
  }
  return target;
}

/** A wait that ends early when the run is stopped (the caller then sees `stop.aborted`). */
function stoppableWait(wait: (ms: number) => Promise<unknown>, stop: AbortSignal | undefined): (ms: number) => Promise<unknown> {
  if (!stop) return wait;
  return (ms) =>
    new Promise((resolve, reject) => {
      if (stop.aborted) return resolve(undefined);
      const onStop = () => resolve(undefined);
      stop.addEventListener("abort", onStop, { once: true });
      wait(ms).then(resolve, reject).finally(() => stop.removeEventListener("abort", onStop));
    });
}

// Sub-millisecond, so that latencies of fast local handlers do not all round to 0 or 1 ms.
const wallClock = () => performance.timeOrigin + performance.now();

export function createContext(options: SimulationOptions): RunContext {
  return {
    options,
    now: options.now ?? wallClock,
    wait: stoppableWait(options.wait ?? sleep, options.stop),
    jitter: createRandom((options.faults.seed ^ 0x9e3779b9) >>> 0),
    targets: new Map(),
  };
}

export interface CallHandlers {
  /** Called once the call id is known, before any webhook. */
  onStart?(callId: string): void;
  onEvent(result: EventResult): void;
  onTurnStart?(step: number, label: string): void;
  onTurn?(turn: TurnResult): void;
}

export interface FlowCallOutcome extends CallOutcome {
  callId: string;
  turns: TurnResult[] | undefined;
}

/** Runs one call of a flow: its scripted events in order, or its caller script against the platform. */
export function runFlowCall(loaded: LoadedFlow, context: RunContext, planRandom: Random, overrides: CallOverrides, handlers: CallHandlers, shouldStop: () => boolean = () => false): Promise<FlowCallOutcome> {
  const body = flowBody(loaded.flow);
  return body.kind === "script" ? runScriptFlowCall(loaded, body.steps, context, planRandom, overrides, handlers, shouldStop) : runEventsCall(loaded, context, planRandom, overrides, handlers, shouldStop);
}

async function runScriptFlowCall(loaded: LoadedFlow, steps: ScriptStep[], context: RunContext, planRandom: Random, overrides: CallOverrides, handlers: CallHandlers, shouldStop: () => boolean): Promise<FlowCallOutcome> {
  try {
    const { runScriptCall } = await import("./script-run.js");
    return await runScriptCall(loaded, steps, context, planRandom, overrides, handlers, shouldStop);
  } catch (error) {
    return interruptedCall(error);
  }
}

/**
 * A call of scripted events: planned, then delivered in order, each result handed on as it finishes.
 * One async function for the whole call (load mode runs millions; each async layer allocates per event).
 */
async function runEventsCall(loaded: LoadedFlow, context: RunContext, planRandom: Random, overrides: CallOverrides, handlers: CallHandlers, shouldStop: () => boolean): Promise<FlowCallOutcome> {
  try {
    const call = planCall(loaded, planRandom, context.options, new Date(context.now()), overrides);
    handlers.onStart?.(call.callId);
    let passed = true;
    const { ordered } = call;
    for (let i = 0; i < ordered.length; i++) {
      const event = ordered[i]!;
      if (shouldStop()) break;
      if (context.options.realtime && event.afterMs > 0) await context.wait(event.afterMs);
      throwIfStopped(context.options.stop);
      const { result } = await deliverAndCheck(event, call.loaded, call.duplicates.has(event.index), context);
      passed &&= result.passed;
      handlers.onEvent(result);
      const stopped = stopReason(result, context);
      if (stopped) return { passed: false, stopped, callId: call.callId, turns: undefined };
    }
    return { passed, stopped: undefined, callId: call.callId, turns: undefined };
  } catch (error) {
    return interruptedCall(error);
  }
}

/** Why the run stops after this event: nothing answered at the address, or --bail on a failure. */
function stopReason(result: EventResult, context: RunContext): CallOutcome["stopped"] {
  if (result.passed) return undefined;
  const unreachable = result.failures.find((finding) => finding.kind === "unreachable");
  if (unreachable) return { reason: "unreachable", message: unreachable.message };
  if (context.options.faults.bail && !result.passed) return { reason: "bail" };
  return undefined;
}

/** Ctrl-C: what finished was handed on as it finished; the webhook in flight is dropped. */
function interruptedCall(error: unknown): FlowCallOutcome {
  if (error instanceof Interrupted) return { passed: true, stopped: { reason: "interrupted" }, callId: "", turns: undefined };
  throw error;
}

export interface OpenedPlatformRuns {
  runs: Readonly<Record<string, PlatformRun>>;
  /** What the platforms tell the user before the first call (where to point the handler). */
  notices: string[];
  close(): Promise<void>;
}

/** Opens the run-level resources of every platform the flows use (those with `openRun`), once each. */
export async function openPlatformRuns(flows: readonly LoadedFlow[], setup: RunSetup): Promise<OpenedPlatformRuns> {
  const runs: Record<string, PlatformRun> = {};
  const close = async () => void (await Promise.all(Object.values(runs).map((run) => run.close())));
  try {
    for (const { platform } of flows) if (platform.openRun && !runs[platform.id]) runs[platform.id] = await platform.openRun(setup);
  } catch (error) {
    await close();
    throw error;
  }
  return { runs, notices: Object.values(runs).flatMap((run) => run.notices), close };
}

/** Runs `work` with the platforms' run-level resources: the caller's, or opened (and closed) here. */
export async function withPlatformRuns<T>(flows: readonly LoadedFlow[], options: SimulationOptions, work: (options: SimulationOptions) => Promise<T>): Promise<T> {
  if (options.platformRuns) return work(options);
  const opened = await openPlatformRuns(flows, { settings: options.platformSettings ?? {}, secrets: [] });
  try {
    return await work({ ...options, platformRuns: opened.runs });
  } finally {
    await opened.close();
  }
}

export async function runSimulation(flows: readonly LoadedFlow[], options: SimulationOptions): Promise<SimulationResult> {
  return withPlatformRuns(flows, options, (withRuns) => simulateFlows(flows, withRuns));
}

async function simulateFlows(flows: readonly LoadedFlow[], options: SimulationOptions): Promise<SimulationResult> {
  const context = createContext(options);
  // Two streams from the one seed: what to duplicate and shuffle is decided before any delivery, so it
  // does not depend on how many retries (and jitter draws) the handler caused.
  const planRandom = createRandom(options.faults.seed);
  const started = context.now();
  const results: FlowResult[] = [];
  let unreachable: string | undefined;
  let bailed = false;
  let interrupted = false;

  for (const loaded of flows) {
    if (options.stop?.aborted) {
      interrupted = true;
      break;
    }
    const flowResult: FlowResult = { file: loaded.file, name: loaded.flow.name, platform: loaded.platform.id, callId: "", events: [], turns: undefined, passed: true };
    results.push(flowResult);
    const outcome = await runFlowCall(loaded, context, planRandom, {}, {
      onStart: (callId) => {
        flowResult.callId = callId;
        options.listener?.flowStarted?.(loaded, callId);
      },
      onEvent: (result) => {
        flowResult.events.push(result);
        options.listener?.eventFinished?.(loaded, result);
      },
      onTurnStart: (step, label) => options.listener?.turnStarted?.(loaded, step, label),
      onTurn: (turn) => {
        (flowResult.turns ??= []).push(turn);
        options.listener?.turnFinished?.(loaded, turn);
      },
    });
    // An interrupted call keeps the verdict of what finished.
    flowResult.passed =
      outcome.stopped?.reason === "interrupted" ? flowResult.events.every((event) => event.passed) && (flowResult.turns ?? []).every((turn) => turn.passed) : outcome.passed;
    if (outcome.stopped?.reason === "unreachable") unreachable = outcome.stopped.message;
    if (outcome.stopped?.reason === "bail") bailed = true;
    if (outcome.stopped?.reason === "interrupted") interrupted = true;
    if (outcome.stopped) break;
  }
  return { flows: results, unreachable, bailed, interrupted, seed: options.faults.seed, durationMs: context.now() - started };
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

