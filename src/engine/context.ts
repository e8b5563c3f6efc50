/**
 * A run's shared state (clock, wait, jitter, per-platform targets) and the vocabulary of a call's outcome.
 */
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { createRandom, type Random } from "../core/random.js";
import { type EventResult, type TurnResult } from "./results.js";
import { type SimulationOptions } from "./options.js";
import { type DeliveryTarget } from "./address.js";

/** Thrown inside a call when `stop` fires; the webhook in flight has no result. */
export class Interrupted extends Error {}

export function throwIfStopped(stop: AbortSignal | undefined): void {
  if (stop?.aborted) throw new Interrupted("interrupted");
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

/** A wait that ends early when the run is stopped (the caller then sees `stop.aborted`). */
export function stoppableWait(wait: (ms: number) => Promise<unknown>, stop: AbortSignal | undefined): (ms: number) => Promise<unknown> {
  if (!stop) return wait;
  return (ms) =>
    new Promise((resolve, reject) => {
      if (stop.aborted) return resolve(undefined);
      const onStop = () => resolve(undefined);
      stop.addEventListener("abort", onStop, { once: true });
      wait(ms)
        .then(resolve, reject)
        .finally(() => stop.removeEventListener("abort", onStop));
    });
}

// Sub-millisecond, so that latencies of fast local handlers do not all round to 0 or 1 ms.
export const wallClock = () => performance.timeOrigin + performance.now();

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

/** Ctrl-C: what finished was handed on as it finished; the webhook in flight is dropped. */
export function interruptedCall(error: unknown): FlowCallOutcome {
  if (error instanceof Interrupted) return { passed: true, stopped: { reason: "interrupted" }, callId: "", turns: undefined };
  throw error;
}

/** Why the run stops after this event: nothing answered at the address, or --bail on a failure. */
export function stopReason(result: EventResult, context: Pick<RunContext, "options">): CallOutcome["stopped"] {
  if (result.passed) return undefined;
  const unreachable = result.failures.find((finding) => finding.kind === "unreachable");
  if (unreachable) return { reason: "unreachable", message: unreachable.message };
  if (context.options.faults.bail && !result.passed) return { reason: "bail" };
  return undefined;
}
