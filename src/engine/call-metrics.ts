/**
 * One call's results as load-test metrics (issue 18): counters and latency samples named `vwh.*`, for
 * an engine that aggregates them across machines (Artillery's `events.emit("counter" | "histogram")`).
 * Counters that CI gates on (`vwh.calls.failed`, `vwh.events.failed`) are emitted even when zero, so
 * an `ensure` expression always finds them.
 */
import type { FindingKind } from "../core/findings.js";
import { type FlowResult } from "./results.js";

/** One call's results (`simulateCall`): a flow's results, and how the call ended. */
export interface CallResult extends FlowResult {
  /** Set when the handler did not answer at all (connection refused, unknown host). */
  unreachable: string | undefined;
  durationMs: number;
}

export type CallMetric = { type: "counter"; name: string; value: number } | { type: "histogram"; name: string; value: number };

// Metric names are dotted paths: keep event types and kinds to the characters reporters accept.
const metricPart = (text: string) => text.replace(/[^A-Za-z0-9_.-]/g, "_");

/** The metrics of one finished call: what passed and failed, by kind, and every reply's latency. */
export function callMetrics(result: CallResult): CallMetric[] {
  const counter = (name: string, value: number): CallMetric => ({ type: "counter", name, value });
  const histogram = (name: string, value: number): CallMetric => ({ type: "histogram", name, value });
  const metrics: CallMetric[] = [
    counter("vwh.calls.passed", result.passed ? 1 : 0),
    counter("vwh.calls.failed", result.passed ? 0 : 1),
    counter("vwh.webhooks", result.events.length),
    counter("vwh.events.failed", result.events.filter((event) => !event.passed).length),
    histogram("vwh.call_duration", result.durationMs),
  ];
  // A kind counts once per webhook (and per turn), however many findings of it there are.
  const failures = new Map<FindingKind, number>();
  const countKinds = (kinds: Iterable<FindingKind>) => {
    for (const kind of new Set(kinds)) failures.set(kind, (failures.get(kind) ?? 0) + 1);
  };
  let retried = 0;
  let overBudget = 0;
  for (const event of result.events) {
    if (event.status !== undefined) metrics.push(counter(`vwh.codes.${event.status}`, 1));
    if (event.latencyMs !== undefined) {
      metrics.push(histogram("vwh.latency", event.latencyMs), histogram(`vwh.latency.${metricPart(event.eventType)}`, event.latencyMs));
    }
    if (event.attempts > 1) retried++;
    if ([...event.failures, ...event.warnings].some((finding) => finding.kind === "budget")) overBudget++;
    countKinds(event.failures.map((finding) => finding.kind));
  }
  // Turn expectations (caller scripts: says, ends, transfers_to …) are checked per turn, not per webhook.
  for (const turn of result.turns ?? []) countKinds(turn.failures.map((finding) => finding.kind));
  if (retried > 0) metrics.push(counter("vwh.retried", retried));
  if (overBudget > 0) metrics.push(counter("vwh.over_budget", overBudget));
  for (const [kind, count] of failures) metrics.push(counter(`vwh.failures.${kind}`, count));
  return metrics;
}
