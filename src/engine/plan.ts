/**
 * Everything random about a call decided before any delivery (order, duplicates, ids), so it does not depend on retries.
 */
import { expandFlow, type PlannedEvent } from "./expand-flow.js";
import { type LoadedFlow } from "../files/call-flow.js";
import { type Random } from "../core/random.js";
import { type SimulationOptions } from "./options.js";

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

export const noDuplicates: ReadonlySet<number> = new Set();

/** Decides everything random about a call before any delivery, so it does not depend on retries. */
export function planCall(
  loaded: LoadedFlow,
  planRandom: Random,
  options: Pick<SimulationOptions, "faults" | "target" | "publicUrl">,
  start: Date,
  overrides: CallOverrides = {},
): PlannedCall {
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
