/**
 * `vwh simulate --calls n`: load mode. Runs the calls (on worker threads with --workers), shows a
 * progress bar on a terminal, and writes the report (text or --json, and JUnit with --junit), the
 * partial one when Ctrl-C stops the run (exit 130).
 */
import { writeFileAtomic } from "../lib/atomic-write.js";
import { ExitCode, ExitError, InputError, UsageError } from "../core/errors.js";
import { type LoadedFlow } from "../files/call-flow.js";
import { runFastLoad, threadCount, warmupCalls, type LoadResult } from "../engine/load/run.js";
import { type SimulationOptions } from "../engine/options.js";
import type { SigningOptions } from "../signing/options.js";
import { formatLoadSummary, toJsonLoadReport, type LoadDescription } from "../ui/load-report.js";
import { progressReporter } from "../ui/load-progress.js";
import type { Output } from "../ui/output.js";
import type { RunDescription } from "../ui/simulate-report.js";

export interface LoadModeSettings {
  calls: number;
  concurrency: number;
  rate: number | undefined;
  pipelining: number | undefined;
  workers: number;
  /** Calls run before the clock starts and counted nowhere (--warmup); 0: none. */
  warmup: number;
  /** Where to write the JUnit report (--junit). */
  junit: string | undefined;
  /** The signing flags, for worker threads to make their own signer. */
  signing: SigningOptions;
  env: NodeJS.ProcessEnv;
}

/**
 * The load-mode flags against each other and against the flows: checked before a platform opens its run
 * (Telnyx's local API prints notices), so a refusal is the only line printed.
 */
export function checkLoadFlags(
  flows: readonly LoadedFlow[],
  flags: { calls?: number | undefined; pipelining?: number | undefined; workers: number; warmup: number },
): void {
  if (flags.calls === undefined) {
    if (flags.pipelining !== undefined) throw new UsageError("--pipelining applies to load mode: give --calls too");
    if (flags.workers > 1) throw new UsageError("--workers applies to load mode: give --calls too");
    if (flags.warmup > 0) throw new UsageError("--warmup applies to load mode: give --calls too");
    return;
  }
  if (!flows.every((loaded) => loaded.flow.events?.every((event) => event.raw === undefined) ?? true)) {
    throw new UsageError("--calls needs call flows, not recordings or dead letters: their bodies carry fixed ids");
  }
  const runLevel = flows.find((loaded) => loaded.platform.openRun);
  if (flags.workers > 1 && runLevel) {
    // Its run-level resources (a local API, a key made for the run) live in this thread.
    throw new UsageError(`--workers does not go with ${runLevel.platform.id} flows (${runLevel.file}): the platform serves the run from the main thread`);
  }
}

/** Runs load mode (its flags checked by checkLoadFlags); `stop` is Ctrl-C. */
export async function simulateLoad(
  flows: LoadedFlow[],
  simulation: SimulationOptions,
  run: RunDescription,
  settings: LoadModeSettings,
  output: Output,
  stop: AbortSignal,
): Promise<void> {
  const load: LoadDescription = {
    ...run,
    calls: settings.calls,
    concurrency: settings.concurrency,
    rate: settings.rate,
    pipelining: settings.pipelining,
    workers: settings.workers,
    // With worker threads, at least a call each: the header and the bar give what will run.
    warmup: settings.workers > 1 ? warmupCalls(settings.warmup, threadCount(settings.workers, settings)) : settings.warmup,
  };
  return runLoadMode(flows, simulation, load, settings, output, stop);
}

async function runLoadMode(
  flows: LoadedFlow[],
  simulation: SimulationOptions,
  run: LoadDescription,
  settings: LoadModeSettings,
  output: Output,
  stop: AbortSignal,
): Promise<void> {
  // With --warmup, a bar for the warm-up's calls first; the calls' own bar (and its time left) starts with the clock.
  const progress = run.warmup ? await progressReporter(output, run.warmup, Date.now, "warm-up calls") : await progressReporter(output, run.calls);
  const warmedUp = () => progress.next(run.calls, "calls");
  const load = { calls: run.calls, concurrency: run.concurrency, rate: run.rate, pipelining: run.pipelining, warmup: run.warmup };
  const running: Promise<LoadResult> =
    settings.workers > 1
      ? import("../engine/load/workers.js").then(({ runLoadInWorkers }) =>
          runLoadInWorkers({
            flows,
            signing: settings.signing,
            simulation,
            load,
            workers: settings.workers,
            env: settings.env,
            deadLetter: simulation.deadLetter,
            onProgress: (done) => progress.update(done),
            onWarmupProgress: (done) => progress.update(done),
            onWarmedUp: warmedUp,
            stop,
          }),
        )
      : runFastLoad(flows, simulation, {
          ...load,
          stop,
          onWarmupCallFinished: (stats) => progress.update(stats.callsPassed + stats.callsFailed),
          onWarmedUp: async () => warmedUp(),
          onCallFinished: (stats) => progress.update(stats.callsPassed + stats.callsFailed),
        });
  const result = await running.finally(() => {
    progress.stop();
    return simulation.dispatcher.close();
  });
  const failed = result.stats.eventsFailed > 0 || result.stats.callsFailed > 0 || result.stats.turns.failed > 0 || result.stats.streams.failed > 0;
  const exitCode = result.interrupted ? ExitCode.interrupted : result.unreachable ? ExitCode.unreachable : failed ? ExitCode.checkFailed : ExitCode.ok;
  if (output.json) output.out(JSON.stringify(toJsonLoadReport(result, run, exitCode), null, 2));
  else output.out(formatLoadSummary(result, run, output.colors));
  if (settings.junit) {
    const { toLoadJUnitXml } = await import("../ui/load-junit.js");
    try {
      await writeFileAtomic(settings.junit, toLoadJUnitXml(result, run));
    } catch (error) {
      throw new InputError(`${settings.junit}: cannot write the JUnit report: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (exitCode !== ExitCode.ok) throw new ExitError(exitCode);
}
