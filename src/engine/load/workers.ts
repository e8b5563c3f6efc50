/**
 * `--workers n`: load mode spread over worker threads (issue 15). Each thread runs its share of the
 * calls and concurrency on its own fast client and sends back its aggregates; node's HDR histograms
 * cross threads intact and merge exactly, so the report's percentiles are those of the whole run.
 * A shared flag stops every thread when one finds the handler unreachable (or --bail trips); dead
 * letters are written by the main thread only, one at a time.
 */
import { Worker } from "node:worker_threads";
import type { DeadLetter } from "../../files/dead-letters.js";
import { type CallFlow, type LoadedFlow } from "../../files/call-flow.js";
import { LoadStats, type LoadStatsData } from "./stats.js";
import { threadCount, warmupCalls, type FastLoadOptions, type LoadResult, type WarmupSummary } from "./run.js";
import type { SigningOptions } from "../../signing/options.js";
import { type SimulationOptions } from "../options.js";

/**
 * Everything a thread needs to rebuild the run: plain data only. Signers and platforms hold functions,
 * so the thread makes them again: from the signing flags, and from each flow's platform id.
 */
export interface WorkerShare {
  flows: { file: string; flow: CallFlow; platform: string }[];
  target: string;
  publicUrl: string | undefined;
  /** The signing settings (scheme undefined: each flow's platform's own), resolved again in the thread. */
  signing: SigningOptions;
  simulation: Pick<
    SimulationOptions,
    "signatureHeaders" | "policy" | "faults" | "budgetMs" | "strictLatency" | "strictEvents" | "realtime" | "maxHops" | "platformSettings"
  >;
  deadLetters: boolean;
  load: Pick<FastLoadOptions, "calls" | "concurrency" | "rate" | "pipelining" | "warmup">;
  /** Int32Array over it: non-zero once any thread has stopped the run. */
  stop: SharedArrayBuffer;
}

export type WorkerMessage =
  | { type: "progress"; phase: "warmup" | "run"; done: number }
  | { type: "dead-letter"; entry: DeadLetter }
  /** Its warm-up is over: it waits for "go", sent once every thread has warmed up (or ended). */
  | { type: "warmed"; warmup: WarmupSummary }
  | { type: "done"; stats: LoadStatsData; unreachable: string | undefined; bailed: boolean; interrupted: boolean; warmup: WarmupSummary | undefined };

export interface WorkersRun extends Omit<WorkerShare, "flows" | "target" | "publicUrl" | "simulation" | "load" | "stop" | "deadLetters"> {
  flows: readonly LoadedFlow[];
  simulation: SimulationOptions;
  load: Omit<FastLoadOptions, "onCallFinished" | "shouldStop" | "stop">;
  /** Ctrl-C: every thread ends its run with what finished, and the report is of that. */
  stop?: AbortSignal;
  /** Calls finished so far across the threads (for the progress bar). */
  onProgress?: (done: number) => void;
  /** --warmup: the same for the warm-up's calls, then once, as the clock starts, onWarmedUp. */
  onWarmupProgress?: (done: number) => void;
  onWarmedUp?: () => void;
  workers: number;
  env: NodeJS.ProcessEnv;
  deadLetter: ((entry: DeadLetter) => Promise<void>) | undefined;
}

/** Thread i's part of a total: as even as whole numbers allow. */
export function shareOf(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

export async function runLoadInWorkers(run: WorkersRun, now: () => number = Date.now): Promise<LoadResult> {
  const { load } = run;
  const threads = threadCount(run.workers, load);
  const warmup = warmupCalls(load.warmup ?? 0, threads);
  const stop = new SharedArrayBuffer(4);
  const stopped = new Int32Array(stop);
  const done = { warmup: new Array<number>(threads).fill(0), run: new Array<number>(threads).fill(0) };
  let unreachable: string | undefined;
  let bailed = false;
  let interrupted = false;
  const threadsRunning: Worker[] = [];
  const onStop = () => {
    Atomics.store(stopped, 0, 1);
    for (const worker of threadsRunning) worker.postMessage({ type: "interrupt" });
  };
  run.stop?.addEventListener("abort", onStop, { once: true });
  let writes = Promise.resolve();
  let writeError: unknown;
  let started = now();
  const stats = new LoadStats(started);
  // --warmup: the clock starts when every thread has warmed up, and they all start their measured calls then.
  const warmups = new Array<WarmupSummary | undefined>(threads);
  const warmed = new Array<boolean>(threads).fill(false);
  let arrived = 0;
  // A thread that ends during its warm-up ends the run: no thread runs a measured call, and the clock never starts.
  let endedInWarmup = false;
  const arrive = () => {
    if (++arrived !== threads || !warmup) return;
    started = now();
    run.onWarmedUp?.();
    for (const worker of threadsRunning) worker.postMessage({ type: "go" });
  };

  const runThread = (index: number) =>
    new Promise<void>((resolve, reject) => {
      const calls = shareOf(load.calls, threads, index);
      const { signatureHeaders, policy, faults, budgetMs, strictLatency, strictEvents, realtime, maxHops, platformSettings } = run.simulation;
      const share: WorkerShare = {
        flows: run.flows.map((loaded) => ({ file: loaded.file, flow: loaded.flow, platform: loaded.platform.id })),
        target: run.simulation.target.href,
        publicUrl: run.simulation.publicUrl?.href,
        signing: run.signing,
        // Plain fields only (they are copied to the thread). Each thread draws its own faults;
        // thread 0 keeps the run's seed.
        simulation: {
          signatureHeaders,
          policy,
          budgetMs,
          strictLatency,
          ...(strictEvents !== undefined && { strictEvents }),
          realtime,
          ...(maxHops !== undefined && { maxHops }),
          ...(platformSettings && { platformSettings }),
          faults: { ...faults, seed: (faults.seed ^ Math.imul(index, 0x9e3779b9)) >>> 0 },
        },
        deadLetters: run.deadLetter !== undefined,
        load: {
          calls,
          concurrency: shareOf(load.concurrency, threads, index),
          rate: load.rate === undefined ? undefined : (load.rate * calls) / load.calls,
          pipelining: load.pipelining,
          warmup: warmup ? shareOf(warmup, threads, index) : undefined,
        },
        stop,
      };
      const worker = new Worker(new URL("./worker.js", import.meta.url), { workerData: share, env: run.env });
      threadsRunning.push(worker);
      if (run.stop?.aborted) worker.postMessage({ type: "interrupt" });
      worker.on("message", (message: WorkerMessage) => {
        if (message.type === "progress") {
          const counts = done[message.phase];
          counts[index] = message.done;
          const total = counts.reduce((sum, value) => sum + value, 0);
          if (message.phase === "run") run.onProgress?.(total);
          else run.onWarmupProgress?.(total);
        } else if (message.type === "dead-letter") {
          const write = run.deadLetter!;
          writes = writes
            .then(() => write(message.entry))
            .catch((error: unknown) => {
              writeError ??= error;
              Atomics.store(stopped, 0, 1);
            });
        } else if (message.type === "warmed") {
          warmups[index] = message.warmup;
          warmed[index] = true;
          arrive();
        } else {
          if (!warmed[index]) {
            // It ended during its warm-up (unreachable, Ctrl-C, another thread's stop): none to wait for.
            warmups[index] = message.warmup;
            endedInWarmup ||= message.warmup !== undefined;
            arrive();
          }
          stats.merge(message.stats);
          unreachable ??= message.unreachable;
          bailed ||= message.bailed;
          interrupted ||= message.interrupted;
        }
      });
      worker.once("error", (error) => {
        Atomics.store(stopped, 0, 1);
        reject(error);
      });
      worker.once("exit", () => resolve());
    });

  try {
    await Promise.all(Array.from({ length: threads }, (_, index) => runThread(index)));
  } finally {
    run.stop?.removeEventListener("abort", onStop);
  }
  await writes;
  if (writeError) throw writeError;
  const warmedUp = warmup
    ? {
        calls: warmups.reduce((sum, part) => sum + (part?.calls ?? 0), 0),
        failed: warmups.reduce((sum, part) => sum + (part?.failed ?? 0), 0),
        durationMs: Math.max(0, ...warmups.map((part) => part?.durationMs ?? 0)),
      }
    : undefined;
  return {
    stats,
    unreachable,
    bailed,
    interrupted: interrupted || run.stop?.aborted === true,
    seed: run.simulation.faults.seed,
    durationMs: endedInWarmup ? 0 : now() - started,
    warmup: warmedUp,
  };
}
