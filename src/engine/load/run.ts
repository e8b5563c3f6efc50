/**
 * Load mode (`--calls n --concurrency c [--rate r]`): n copies of the flows as separate calls, each
 * with fresh call and event ids, c calls in flight, events within a call in order. Results are
 * aggregated as they come (LoadStats), never kept.
 */
import { randomId } from "../../core/ids.js";
import { type LoadedFlow } from "../../files/call-flow.js";
import { LoadStats } from "./stats.js";
import { createRandom } from "../../core/random.js";
import { createContext } from "../context.js";
import { runFlowCall, withPlatformRuns } from "../run.js";
import { type EventResult, type TurnResult } from "../results.js";
import { type SimulationOptions } from "../options.js";

export interface LoadOptions {
  calls: number;
  concurrency: number;
  /** Open-loop arrivals: calls started per second (still at most `concurrency` in flight). */
  rate: number | undefined;
  /**
   * --warmup: this many calls first, run as the measured ones are (concurrency, rate, faults), counted
   * in no figure and written to no dead-letter file. The clock starts after them, so a figure at a fixed
   * rate is the handler's, not vwh's own cold start (its first second runs slower and falls behind).
   */
  warmup?: number | undefined;
  /** Between the warm-up and the measured calls: worker threads wait here until every thread has warmed up. */
  onWarmedUp?: (warmup: WarmupSummary) => Promise<void>;
  /** The fraction of the time since its last call the sender was busy (tests); default: node's event-loop utilization. */
  senderBusy?: () => number;
  /** Called after each warm-up call, for a progress bar. */
  onWarmupCallFinished?: (stats: LoadStats) => void;
  /** Called after each call, for a progress bar. */
  onCallFinished?: (stats: LoadStats) => void;
  /** Stops starting calls (another worker thread found the handler unreachable, or --bail). */
  shouldStop?: () => boolean;
  /**
   * Ctrl-C: the run ends at once with what finished so far (calls in flight are dropped, their
   * events after this moment not counted). Not passed on to each request: a listener per request
   * would cost every event of a run for the one moment it is used.
   */
  stop?: AbortSignal;
}

export interface LoadResult {
  stats: LoadStats;
  unreachable: string | undefined;
  bailed: boolean;
  /** Set when Ctrl-C ended the run: the aggregates are partial. */
  interrupted: boolean;
  seed: number;
  durationMs: number;
  /** --warmup: the calls run before the clock started (none of them counted above). */
  warmup: WarmupSummary | undefined;
}

export interface WarmupSummary {
  /** Calls finished (passed or failed). */
  calls: number;
  failed: number;
  durationMs: number;
}

export async function runLoad(flows: readonly LoadedFlow[], options: SimulationOptions, load: LoadOptions): Promise<LoadResult> {
  return withPlatformRuns(flows, options, async (withRuns) => {
    if (!load.warmup) return runLoadCalls(flows, withRuns, load);
    // The warm-up's own plans come from the same seed, so the measured calls' faults are those of a run without it.
    // Nothing of the warm-up reaches the measured calls' progress or the dead-letter file.
    const { deadLetter: _deadLetter, ...warmOptions } = withRuns;
    const { onCallFinished: _onCallFinished, onWarmupCallFinished, ...warmLoad } = load;
    const warm = await runLoadCalls(
      flows,
      { ...warmOptions, faults: { ...withRuns.faults, bail: false } },
      { ...warmLoad, calls: load.warmup, ...(onWarmupCallFinished && { onCallFinished: onWarmupCallFinished }) },
    );
    const warmup = { calls: warm.stats.callsPassed + warm.stats.callsFailed, failed: warm.stats.callsFailed, durationMs: warm.durationMs };
    // Unreachable, Ctrl-C or another thread's stop during the warm-up: no measured call runs.
    if (warm.unreachable !== undefined || warm.interrupted || load.shouldStop?.() === true) {
      return { ...warm, stats: new LoadStats(), bailed: false, durationMs: 0, warmup };
    }
    await load.onWarmedUp?.(warmup);
    return { ...(await runLoadCalls(flows, withRuns, load)), warmup };
  });
}

async function runLoadCalls(flows: readonly LoadedFlow[], options: SimulationOptions, load: LoadOptions): Promise<LoadResult> {
  // Load mode counts failures by kind; what was sent and received is not kept (see SimulationOptions.evidence).
  const context = createContext({ ...options, evidence: false });
  const planRandom = createRandom(options.faults.seed);
  const started = context.now();
  const stats = new LoadStats(started);
  // Events are counted into seconds of the run by a timer on the wall clock (no clock read per event);
  // on an injected clock, where timers mean nothing, each event reads it.
  const fakeClock = options.now !== undefined;
  // How busy this thread's event loop was, each second: a late start with it busy is vwh's, not --concurrency's.
  const busy = fakeClock ? load.senderBusy : (load.senderBusy ?? eventLoopBusy());
  const ticker = fakeClock ? undefined : setInterval(() => stats.advanceTo(context.now(), busy), 100);
  ticker?.unref();
  let next = 0;
  let unreachable: string | undefined;
  let bailed = false;
  let interrupted = false;
  const stopping = () => interrupted || unreachable !== undefined || bailed || load.shouldStop?.() === true;

  const worker = async () => {
    // One set of handlers per worker, which runs one call at a time (not two closures per call).
    let callId = "";
    const handlers = {
      onEvent: fakeClock
        ? (result: EventResult) => interrupted || (stats.advanceTo(context.now(), busy), stats.recordEvent(callId, result))
        : (result: EventResult) => interrupted || stats.recordEvent(callId, result),
      onTurn: (turn: TurnResult) => interrupted || stats.recordTurn(callId, turn),
    };
    const overrides = { callId, freshIds: true };
    for (;;) {
      const index = next++;
      if (index >= load.calls || stopping()) return;
      if (load.rate !== undefined) {
        const due = started + (index * 1000) / load.rate;
        let wait = due - context.now();
        const slotFree = wait > 0;
        if (slotFree) {
          await context.wait(wait);
          // A timer that fired late (vwh's loop busy elsewhere, or its process not run) starts the call late with a slot free.
          wait = due - context.now();
        }
        if (stopping()) return;
        if (wait < -50) stats.recordLateStart(slotFree);
      }
      // Plans are made in call order whatever the scheduling, so a seed decides the same faults.
      callId = randomId("call");
      overrides.callId = callId;
      stats.callsStarted++;
      const outcome = await runFlowCall(flows[index % flows.length]!, context, planRandom, overrides, handlers, stopping);
      if (interrupted) return;
      stats.recordCall(outcome.passed);
      if (outcome.stopped?.reason === "unreachable") unreachable ??= outcome.stopped.message;
      if (outcome.stopped?.reason === "bail") bailed = true;
      load.onCallFinished?.(stats);
    }
  };
  const workers = Promise.all(Array.from({ length: Math.min(load.concurrency, load.calls) }, worker));
  const { stop } = load;
  if (stop === undefined) await workers.finally(() => clearInterval(ticker));
  else {
    let onStop = () => {};
    const stopped = new Promise<void>((resolve) => {
      onStop = () => resolve();
      if (stop.aborted) resolve();
      else stop.addEventListener("abort", onStop, { once: true });
    });
    await Promise.race([workers, stopped]).finally(() => clearInterval(ticker));
    stop.removeEventListener("abort", onStop);
    // From here on nothing is counted: the report is of what finished before Ctrl-C.
    if (stop.aborted) interrupted = true;
  }
  stats.finish(busy);
  return { stats, unreachable, bailed, interrupted, seed: options.faults.seed, durationMs: context.now() - started, warmup: undefined };
}

/** The fraction of the time since its last call this thread's event loop was busy (node's event-loop utilization). */
function eventLoopBusy(): () => number {
  let last = performance.eventLoopUtilization();
  return () => {
    const now = performance.eventLoopUtilization();
    const { utilization } = performance.eventLoopUtilization(now, last);
    last = now;
    return utilization;
  };
}

/** The worker threads a run uses: --workers, but never more than calls or calls in flight. */
export function threadCount(workers: number, load: Pick<LoadOptions, "calls" | "concurrency">): number {
  return Math.max(1, Math.min(workers, load.calls, load.concurrency));
}

/** The warm-up's calls in all: with worker threads, at least one each (a thread with none would never say it had warmed up). */
export function warmupCalls(warmup: number, threads: number): number {
  return warmup > 0 ? Math.max(warmup, threads) : 0;
}

export interface FastLoadOptions extends LoadOptions {
  /** Requests in flight per connection (--pipelining); 1 when absent. */
  pipelining: number | undefined;
}

/**
 * Load mode on the fast client (src/fast-client): one connection per call in flight, or fewer
 * connections carrying `pipelining` requests each.
 */
export async function runFastLoad(flows: readonly LoadedFlow[], options: SimulationOptions, load: FastLoadOptions): Promise<LoadResult> {
  const { createFastClient } = await import("../../transport/fast-client/index.js");
  const pipelining = load.pipelining ?? 1;
  const client = createFastClient({ connections: Math.ceil(load.concurrency / pipelining), pipelining });
  try {
    return await runLoad(flows, { ...options, transport: client.deliver }, load);
  } finally {
    await client.close();
  }
}
