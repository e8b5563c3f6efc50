/** The report of a load run: throughput, latency percentiles against the budget, failures by kind. */
import type { ChalkInstance } from "chalk";
import type { LatencySummary } from "../engine/load/stats.js";
import type { LoadResult } from "../engine/load/run.js";
import { runJson, type RunDescription } from "./simulate-report.js";

export interface LoadDescription extends RunDescription {
  calls: number;
  concurrency: number;
  rate: number | undefined;
  /** Requests in flight per connection (--pipelining); absent: one. */
  pipelining?: number | undefined;
  /** Worker threads sending (--workers); absent: one. */
  workers?: number | undefined;
}

const ms = (value: number) => `${value} ms`;

function percentiles(latency: LatencySummary, colors: ChalkInstance, budgetMs: number): string {
  const mark = (value: number) => (value > budgetMs ? colors.yellow(ms(value)) : ms(value));
  return `p50 ${mark(latency.p50Ms)}  p90 ${mark(latency.p90Ms)}  p95 ${mark(latency.p95Ms)}  p99 ${mark(latency.p99Ms)}  max ${mark(latency.maxMs)}`;
}

export function eventsPerSecond(result: LoadResult): number {
  return result.durationMs > 0 ? Math.round((result.stats.events / result.durationMs) * 1000 * 10) / 10 : 0;
}

export function formatLoadSummary(result: LoadResult, run: LoadDescription, colors: ChalkInstance): string {
  const { stats } = result;
  const latency = stats.latency();
  const lines = [
    colors.dim(`vwh simulate → ${run.target}  (${run.calls} calls, concurrency ${run.concurrency}${run.rate ? `, ${run.rate} calls/s` : ""}${run.pipelining ? `, pipelining ${run.pipelining}` : ""}${(run.workers ?? 1) > 1 ? `, ${run.workers} worker threads` : ""}, budget ${run.budgetMs} ms, seed ${result.seed})`),
    "",
    `calls     ${stats.callsStarted} started · ${colors.green(`${stats.callsPassed} passed`)} · ${stats.callsFailed ? colors.red(`${stats.callsFailed} failed`) : "0 failed"}${stats.lateStarts ? colors.yellow(` · ${stats.lateStarts} started late (concurrency saturated)`) : ""}`,
    `events    ${stats.events} · ${eventsPerSecond(result)} events/s · ${stats.eventsFailed ? colors.red(`${stats.eventsFailed} failed`) : "0 failed"} · ${stats.overBudget ? colors.yellow(`${stats.overBudget} over budget`) : "0 over budget"}`,
    `latency   ${percentiles(latency, colors, run.budgetMs)}`,
  ];
  const firstAudio = stats.firstAudio();
  if (firstAudio.count) lines.push(`1st audio ${percentiles(firstAudio, colors, run.budgetMs)}  ${colors.dim(`(${firstAudio.count} media turns)`)}`);
  const extras = [stats.retried && `${stats.retried} retried`, stats.duplicated && `${stats.duplicated} duplicated`, stats.deadLettered && colors.red(`${stats.deadLettered} dead-lettered`)].filter(Boolean);
  if (extras.length) lines.push(`faults    ${extras.join(" · ")}`);
  if (stats.failuresByKind.size) lines.push(`failures  ${[...stats.failuresByKind.entries()].map(([kind, count]) => `${kind} ${count}`).join(" · ")}`);
  const perType = stats.perType();
  if (perType.length > 1) {
    lines.push("", colors.dim(`  ${"event type".padEnd(24)} ${"events".padStart(8)} ${"failed".padStart(7)}  latency`));
    for (const entry of perType) {
      lines.push(`  ${entry.eventType.padEnd(24)} ${String(entry.events).padStart(8)} ${String(entry.failed).padStart(7)}  ${percentiles(entry.latency, colors, run.budgetMs)}`);
    }
  }
  if (stats.samples.length) {
    lines.push("", colors.red("first failures:"));
    for (const sample of stats.samples) lines.push(colors.red(`  ${sample.callId} #${sample.sequence} ${sample.eventType}: ${sample.message}`));
  }
  lines.push("", `${(result.durationMs / 1000).toFixed(2)} s`);
  if (result.unreachable) lines.push(colors.red(`could not reach the handler: ${result.unreachable}`));
  if (result.bailed) lines.push(colors.red("stopped at the first failure (--bail)"));
  return lines.join("\n");
}

const latencyJson = (latency: LatencySummary) => ({
  count: latency.count,
  p50_ms: latency.p50Ms,
  p90_ms: latency.p90Ms,
  p95_ms: latency.p95Ms,
  p99_ms: latency.p99Ms,
  max_ms: latency.maxMs,
});

export function toJsonLoadReport(result: LoadResult, run: LoadDescription, exitCode: number) {
  const { stats } = result;
  return {
    mode: "load",
    ...runJson(run, result, exitCode),
    concurrency: run.concurrency,
    rate: run.rate ?? null,
    pipelining: run.pipelining ?? 1,
    workers: run.workers ?? 1,
    duration_ms: Math.round(result.durationMs),
    calls: { requested: run.calls, started: stats.callsStarted, passed: stats.callsPassed, failed: stats.callsFailed, late_starts: stats.lateStarts },
    events: { total: stats.events, failed: stats.eventsFailed, over_budget: stats.overBudget, per_second: eventsPerSecond(result), retried: stats.retried, duplicated: stats.duplicated, dead_lettered: stats.deadLettered },
    latency: latencyJson(stats.latency()),
    first_audio: stats.firstAudio().count ? latencyJson(stats.firstAudio()) : null,
    failures_by_kind: Object.fromEntries(stats.failuresByKind),
    per_event_type: stats.perType().map((entry) => ({ event_type: entry.eventType, events: entry.events, failed: entry.failed, over_budget: entry.overBudget, latency: latencyJson(entry.latency) })),
    failure_samples: stats.samples.map((sample) => ({ call_id: sample.callId, sequence: sample.sequence, event_type: sample.eventType, message: sample.message })),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
}
