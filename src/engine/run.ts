/**
 * The simulated voice platform's run: every flow's calls, with the platforms' run-level resources open, and the run's
 * result. Knows nothing of the terminal: progress goes to an injected listener.
 */
import type { ScriptStep } from "../files/caller-script.js";
import { flowBody, type LoadedFlow } from "../files/call-flow.js";
import type { PlatformRun, RunSetup } from "../platforms/types.js";
import { createRandom, type Random } from "../core/random.js";
import { flowPassed, type FlowResult, type SimulationResult } from "./results.js";
import { type SimulationOptions } from "./options.js";
import { type CallHandlers, type FlowCallOutcome, type RunContext, createContext, interruptedCall } from "./context.js";
import { type CallOverrides } from "./plan.js";
import { runEventsCall } from "./events-call.js";

/** Runs one call of a flow: its scripted events in order, or its caller script against the platform. */
export function runFlowCall(
  loaded: LoadedFlow,
  context: RunContext,
  planRandom: Random,
  overrides: CallOverrides,
  handlers: CallHandlers,
  shouldStop: () => boolean = () => false,
): Promise<FlowCallOutcome> {
  const body = flowBody(loaded.flow);
  return body.kind === "script"
    ? runScriptFlowCall(loaded, body.steps, context, planRandom, overrides, handlers, shouldStop)
    : runEventsCall(loaded, context, planRandom, overrides, handlers, shouldStop);
}

export async function runScriptFlowCall(
  loaded: LoadedFlow,
  steps: ScriptStep[],
  context: RunContext,
  planRandom: Random,
  overrides: CallOverrides,
  handlers: CallHandlers,
  shouldStop: () => boolean,
): Promise<FlowCallOutcome> {
  try {
    const { runScriptCall } = await import("./script-call.js");
    return await runScriptCall(loaded, steps, context, planRandom, overrides, handlers, shouldStop);
  } catch (error) {
    return interruptedCall(error);
  }
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
export async function withPlatformRuns<T>(
  flows: readonly LoadedFlow[],
  options: SimulationOptions,
  work: (options: SimulationOptions) => Promise<T>,
): Promise<T> {
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

export async function simulateFlows(flows: readonly LoadedFlow[], options: SimulationOptions): Promise<SimulationResult> {
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
    const flowResult: FlowResult = {
      file: loaded.file,
      name: loaded.flow.name,
      platform: loaded.platform.id,
      callId: "",
      events: [],
      turns: undefined,
      passed: true,
    };
    results.push(flowResult);
    const outcome = await runFlowCall(
      loaded,
      context,
      planRandom,
      {},
      {
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
      },
    );
    // The verdict is the sum of what ran: its events and turns (an interrupted call keeps the verdict of what finished).
    flowResult.passed = flowPassed(flowResult) && (outcome.passed || outcome.stopped?.reason === "interrupted");
    if (outcome.stopped?.reason === "unreachable") unreachable = outcome.stopped.message;
    if (outcome.stopped?.reason === "bail") bailed = true;
    if (outcome.stopped?.reason === "interrupted") interrupted = true;
    if (outcome.stopped) break;
  }
  return { flows: results, unreachable, bailed, interrupted, seed: options.faults.seed, durationMs: context.now() - started };
}
