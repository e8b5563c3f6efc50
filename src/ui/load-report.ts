/**
 * The report of a load run: the single run's header, calls, events, turns and streams with their
 * failures by kind, status codes, latency (min / mean / stdev / percentiles) against the budget, the
 * rate over the run, and the first failures, naming call, step and check.
 */
import type { ChalkInstance } from "chalk";
import type { FailureSample, LatencySummary, LoadStats, TurnCounts } from "../engine/load/stats.js";
import type { LoadResult, WarmupSummary } from "../engine/load/run.js";
import { formatRunHeader, runJson, type RunDescription } from "./simulate-report.js";

export interface LoadDescription extends RunDescription {
  calls: number;
  concurrency: number;
  rate: number | undefined;
  /** Requests in flight per connection (--pipelining); absent: one. */
  pipelining?: number | undefined;
  /** Worker threads sending (--workers); absent: one. */
  workers?: number | undefined;
  /** Calls run before the clock (--warmup); absent or 0: none. */
  warmup?: number | undefined;
}

const ms = (value: number) => `${value} ms`;

function percentiles(latency: LatencySummary, colors: ChalkInstance, budgetMs: number): string {
  const mark = (value: number) => (value > budgetMs ? colors.yellow(ms(value)) : ms(value));
  return `p50 ${mark(latency.p50Ms)}  p90 ${mark(latency.p90Ms)}  p95 ${mark(latency.p95Ms)}  p99 ${mark(latency.p99Ms)}  max ${mark(latency.maxMs)}`;
}

export function eventsPerSecond(result: LoadResult): number {
  return result.durationMs > 0 ? Math.round((result.stats.events / result.durationMs) * 1000 * 10) / 10 : 0;
}

/**
 * Events per second over the run. The last second is scaled up to a full one when the run ended inside
 * it (so a run of 4.2 s does not end on a dip that is only the clock); events at the very end of a run
 * of whole seconds count in its last second.
 */
export function ratePerSecond(result: LoadResult): number[] {
  const seconds = Math.max(1, Math.ceil(result.durationMs / 1000));
  const counts = result.stats.perSecond.slice(0, seconds);
  for (let second = seconds; second < result.stats.perSecond.length; second++) counts[counts.length - 1]! += result.stats.perSecond[second]!;
  const fraction = (result.durationMs % 1000) / 1000;
  if (counts.length > 1 && fraction > 0 && counts.length === seconds) counts[counts.length - 1] = Math.round(counts.at(-1)! / fraction);
  return counts;
}

const bars = "▁▂▃▄▅▆▇█";

/** A sparkline of at most `width` bars: longer series are averaged over groups of adjacent seconds. */
export function sparkline(values: readonly number[], width = 60): string {
  if (values.length === 0) return "";
  const group = Math.ceil(values.length / width);
  const points: number[] = [];
  for (let start = 0; start < values.length; start += group) {
    const slice = values.slice(start, start + group);
    points.push(slice.reduce((sum, value) => sum + value, 0) / slice.length);
  }
  const top = Math.max(...points);
  return points.map((value) => bars[top > 0 ? Math.min(bars.length - 1, Math.round((value / top) * (bars.length - 1))) : 0]).join("");
}

const kinds = (counts: ReadonlyMap<string, number>) => [...counts].map(([kind, count]) => `${kind} ${count}`).join(" · ");

function statusLine(stats: LoadStats): string | undefined {
  const groups = new Map<string, [number, number][]>();
  for (const [status, count] of stats.statuses()) {
    const group = `${Math.floor(status / 100)}xx`;
    groups.set(group, [...(groups.get(group) ?? []), [status, count]]);
  }
  const parts = [...groups].map(
    ([group, codes]) => `${group} ${codes.reduce((sum, [, count]) => sum + count, 0)} (${codes.map(([status, count]) => `${status} ${count}`).join(" · ")})`,
  );
  if (stats.errors.size) parts.push(`errors ${[...stats.errors.values()].reduce((sum, count) => sum + count, 0)} (${kinds(stats.errors)})`);
  return parts.length ? parts.join(" · ") : undefined;
}

/** Where a sample is: `call_… #2 call.started`, `call_… step 2 (say "hi")`, with the step of an event of a script. */
export function sampleWhere(sample: FailureSample): string {
  const step = sample.step !== undefined && sample.step >= 0 ? `step ${sample.step + 1}` : undefined;
  if (sample.source === "event") return `${sample.callId} #${sample.sequence} ${sample.eventType}${step ? ` (${step})` : ""}`;
  return `${sample.callId} ${sample.source === "stream" ? "stream " : ""}${step ?? "connect"}${sample.stepLabel ? ` (${sample.stepLabel})` : ""}`;
}

/** Calls started but neither passed nor failed: in flight when Ctrl-C ended the run. */
const unfinished = (result: LoadResult) => (result.interrupted ? result.stats.callsStarted - result.stats.callsPassed - result.stats.callsFailed : 0);

function turnLine(name: string, counts: TurnCounts, colors: ChalkInstance): string {
  return `${name.padEnd(9)} ${counts.total} · ${counts.failed ? colors.red(`${counts.failed} failed`) : "0 failed"}`;
}

export function formatLoadSummary(result: LoadResult, run: LoadDescription, colors: ChalkInstance): string {
  const { stats } = result;
  const latency = stats.latency();
  const shape = [`${run.calls} calls`, `concurrency ${run.concurrency}`];
  if (run.rate) shape.push(`${run.rate} calls/s`);
  if (run.pipelining) shape.push(`pipelining ${run.pipelining}`);
  if ((run.workers ?? 1) > 1) shape.push(`${run.workers} worker threads`);
  if (run.warmup) shape.push(`warm-up ${run.warmup} calls`);
  const lines = [
    colors.dim(formatRunHeader(run)),
    colors.dim(`load: ${shape.join(", ")}`),
    "",
    `calls     ${stats.callsStarted} started · ${colors.green(`${stats.callsPassed} passed`)} · ${stats.callsFailed ? colors.red(`${stats.callsFailed} failed`) : "0 failed"}${stats.lateStarts ? colors.yellow(` · ${lateStartsText(stats)}`) : ""}${unfinished(result) ? colors.yellow(` · ${unfinished(result)} in flight at Ctrl-C (not counted)`) : ""}`,
    `events    ${stats.events} · ${eventsPerSecond(result)} events/s · ${stats.eventsFailed ? colors.red(`${stats.eventsFailed} failed`) : "0 failed"} · ${stats.overBudget ? colors.yellow(`${stats.overBudget} over budget`) : "0 over budget"}`,
  ];
  if (stats.turns.total) lines.push(turnLine("turns", stats.turns, colors));
  if (stats.streams.total) lines.push(turnLine("streams", stats.streams, colors));
  const status = statusLine(stats);
  if (status) lines.push(`status    ${status}`);
  if (latency.count)
    lines.push(`latency   min ${ms(latency.minMs)}  mean ${ms(latency.meanMs)}  stdev ${ms(latency.stdevMs)}  ${percentiles(latency, colors, run.budgetMs)}`);
  const rate = ratePerSecond(result);
  if (rate.length > 1) lines.push(`rate      ${sparkline(rate)}  ${colors.dim(`events/s per second, peak ${Math.max(...rate)}, low ${Math.min(...rate)}`)}`);
  const firstAudio = stats.firstAudio();
  if (firstAudio.count) lines.push(`1st audio ${percentiles(firstAudio, colors, run.budgetMs)}  ${colors.dim(`(${firstAudio.count} media turns)`)}`);
  const firstToken = stats.firstToken();
  if (firstToken.count) lines.push(`1st token ${percentiles(firstToken, colors, run.budgetMs)}  ${colors.dim(`(${firstToken.count} LLM turns)`)}`);
  const extras = [
    stats.retried && `${stats.retried} retried`,
    stats.duplicated && `${stats.duplicated} duplicated`,
    stats.deadLettered && colors.red(`${stats.deadLettered} dead-lettered`),
  ].filter(Boolean);
  if (extras.length) lines.push(`faults    ${extras.join(" · ")}`);
  const failures = [
    stats.failuresByKind.size && `events: ${kinds(stats.failuresByKind)}`,
    stats.turns.failuresByKind.size && `turns: ${kinds(stats.turns.failuresByKind)}`,
    stats.streams.failuresByKind.size && `streams: ${kinds(stats.streams.failuresByKind)}`,
  ].filter(Boolean);
  if (failures.length) lines.push(`failures  ${failures.join(" · ")}`);
  const perType = stats.perType();
  if (perType.length > 1) {
    lines.push("", colors.dim(`  ${"event type".padEnd(24)} ${"events".padStart(8)} ${"failed".padStart(7)}  latency`));
    for (const entry of perType) {
      lines.push(
        `  ${entry.eventType.padEnd(24)} ${String(entry.events).padStart(8)} ${String(entry.failed).padStart(7)}  ${percentiles(entry.latency, colors, run.budgetMs)}`,
      );
    }
  }
  if (stats.samples.length) {
    lines.push("", colors.red("first failures:"));
    for (const sample of stats.samples) lines.push(colors.red(`  ${sampleWhere(sample)}: ${sample.message}`));
  }
  lines.push("", `${(result.durationMs / 1000).toFixed(2)} s`);
  if (result.warmup) lines.push(colors.dim(warmupLine(result.warmup)));
  if (result.interrupted) lines.push(colors.yellow("interrupted (Ctrl-C): partial results"));
  if (result.unreachable) lines.push(colors.red(`could not reach the handler: ${result.unreachable}`));
  if (result.bailed) lines.push(colors.red("stopped at the first failure (--bail)"));
  return lines.join("\n");
}

/**
 * Late starts, and what held them back. Those whose call slot was free are vwh's own (its timer fired late);
 * the others by how busy vwh's event loop was when they started: busy, vwh was short of CPU; idle, every
 * call slot was taken by the handler.
 */
function lateStartsText(stats: LoadStats): string {
  const late = stats.lateStarts;
  const slotFree = stats.lateStartsSlotFree;
  const busy = stats.lateStartsBusy();
  const percent = `vwh's event loop ${Math.round((busy ?? 0) * 100)} % busy then`;
  const band =
    busy === undefined
      ? "behind --rate: every call slot busy, or vwh short of CPU"
      : busy >= 0.9
        ? `vwh short of CPU: ${percent}; a fresh process's first second is, see --warmup`
        : busy < 0.5
          ? `every call slot busy, ${percent}: the handler holds calls longer than --concurrency allows at --rate`
          : `${percent}: short of CPU, and every call slot busy the rest of the time`;
  const timers = "with a call slot free: vwh's own timers fired late, its loop busy or its process short of CPU";
  const cause = slotFree === 0 ? band : slotFree === late ? timers : `${late - slotFree} with no slot free at their time: ${band}; ${slotFree} ${timers}`;
  return `${late} started late (${cause})`;
}

function warmupLine(warmup: WarmupSummary): string {
  const failed = warmup.failed ? ` (${warmup.failed} failed)` : "";
  return `after a warm-up of ${warmup.calls} calls${failed} in ${(warmup.durationMs / 1000).toFixed(2)} s, counted in none of the figures above`;
}

const latencyJson = (latency: LatencySummary) => ({
  count: latency.count,
  min_ms: latency.minMs,
  mean_ms: latency.meanMs,
  stdev_ms: latency.stdevMs,
  p50_ms: latency.p50Ms,
  p90_ms: latency.p90Ms,
  p95_ms: latency.p95Ms,
  p99_ms: latency.p99Ms,
  max_ms: latency.maxMs,
});

const turnsJson = (counts: TurnCounts) => ({ total: counts.total, failed: counts.failed, failures_by_kind: Object.fromEntries(counts.failuresByKind) });

export function toJsonLoadReport(result: LoadResult, run: LoadDescription, exitCode: number) {
  const { stats } = result;
  // Every failed check by kind: events', turns' and streams' together (each also under its own).
  const allKinds = new Map<string, number>();
  for (const counts of [stats.failuresByKind, stats.turns.failuresByKind, stats.streams.failuresByKind])
    for (const [kind, count] of counts) allKinds.set(kind, (allKinds.get(kind) ?? 0) + count);
  return {
    mode: "load",
    ...runJson(run, result, exitCode),
    concurrency: run.concurrency,
    rate: run.rate ?? null,
    pipelining: run.pipelining ?? 1,
    workers: run.workers ?? 1,
    duration_ms: Math.round(result.durationMs),
    /** --warmup: the calls run before the clock started, counted in no other figure; null without it. */
    warmup: result.warmup ? { calls: result.warmup.calls, failed: result.warmup.failed, duration_ms: Math.round(result.warmup.durationMs) } : null,
    calls: {
      requested: run.calls,
      started: stats.callsStarted,
      passed: stats.callsPassed,
      failed: stats.callsFailed,
      late_starts: stats.lateStarts,
      /** How busy vwh's event loop was when those with no slot free started (0 to 1): near 1, vwh was short of CPU; low, every call slot was busy. */
      late_starts_sender_busy: stats.lateStartsBusy() ?? null,
      /** Of late_starts, those whose call slot was free and whose timer fired late: vwh's own lateness for certain (its loop busy, or its process short of CPU). */
      late_starts_slot_free: stats.lateStartsSlotFree,
      unfinished: unfinished(result),
    },
    events: {
      total: stats.events,
      failed: stats.eventsFailed,
      over_budget: stats.overBudget,
      per_second: eventsPerSecond(result),
      retried: stats.retried,
      duplicated: stats.duplicated,
      dead_lettered: stats.deadLettered,
      failures_by_kind: Object.fromEntries(stats.failuresByKind),
    },
    turns: turnsJson(stats.turns),
    streams: turnsJson(stats.streams),
    status_codes: Object.fromEntries(stats.statuses().map(([status, count]) => [String(status), count])),
    status_classes: stats.statusClasses(),
    errors_by_code: Object.fromEntries(stats.errors),
    latency: latencyJson(stats.latency()),
    /** Events finished in each second of the run, the last scaled to a full second. */
    events_per_second_over_time: ratePerSecond(result),
    /** How busy vwh's event loop was in each second (0 to 1, the mean over the worker threads running then): near 1, vwh itself was the limit. */
    sender_busy_per_second: stats.busyPerSecond() ?? null,
    first_audio: stats.firstAudio().count ? latencyJson(stats.firstAudio()) : null,
    first_token: stats.firstToken().count ? latencyJson(stats.firstToken()) : null,
    failures_by_kind: Object.fromEntries(allKinds),
    per_event_type: stats.perType().map((entry) => ({
      event_type: entry.eventType,
      events: entry.events,
      failed: entry.failed,
      over_budget: entry.overBudget,
      latency: latencyJson(entry.latency),
    })),
    failure_samples: stats.samples.map((sample) => ({
      call_id: sample.callId,
      source: sample.source,
      sequence: sample.sequence ?? null,
      event_type: sample.eventType ?? null,
      step: sample.step !== undefined && sample.step >= 0 ? sample.step + 1 : null,
      step_label: sample.stepLabel ?? null,
      kind: sample.kind,
      expectation: sample.expectation ?? null,
      message: sample.message,
    })),
    peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
  };
}
