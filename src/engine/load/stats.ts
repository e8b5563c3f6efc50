/**
 * Aggregates of a load run. Latencies go into HDR histograms (node's built-in perf_hooks one), never
 * into a list, so memory stays flat whether the run has ten thousand calls or a million.
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
import type { Finding, FindingKind } from "../../checks/reply.js";
import { type EventResult, type TurnResult } from "../results.js";

export interface LatencySummary {
  count: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface FailureSample {
  callId: string;
  sequence: number;
  eventType: string;
  message: string;
}

class TypeStats {
  readonly histogram: RecordableHistogram = createHistogram();
  events = 0;
  failed = 0;
  overBudget = 0;

  count(result: EventResult, overBudget: boolean): void {
    this.events++;
    if (!result.passed) this.failed++;
    if (overBudget) this.overBudget++;
    // Microseconds, at least 1: the histogram takes positive integers.
    if (result.latencyMs !== undefined) this.histogram.record(Math.max(1, Math.round(result.latencyMs * 1000)));
  }

  merge(other: TypeStatsData): void {
    this.histogram.add(other.histogram);
    this.events += other.events;
    this.failed += other.failed;
    this.overBudget += other.overBudget;
  }
}

type TypeStatsData = Pick<TypeStats, "histogram" | "events" | "failed" | "overBudget">;

/** LoadStats as plain data that can cross to another thread (node's histograms are cloneable). */
export interface LoadStatsData {
  counters: Record<(typeof counterNames)[number], number>;
  all: TypeStatsData;
  byType: [string, TypeStatsData][];
  failuresByKind: [FindingKind, number][];
  samples: FailureSample[];
  /** Media streams: time to first audio, per turn. */
  firstAudio: RecordableHistogram;
}

const counterNames = ["callsStarted", "callsPassed", "callsFailed", "lateStarts", "retried", "duplicated", "deadLettered"] as const;

const sampleLimit = 5;
const isOverBudget = (finding: Finding) => finding.kind === "budget";

export class LoadStats {
  callsStarted = 0;
  callsPassed = 0;
  callsFailed = 0;
  /** Calls that started later than --rate scheduled them, because --concurrency was saturated. */
  lateStarts = 0;
  retried = 0;
  duplicated = 0;
  deadLettered = 0;
  readonly failuresByKind = new Map<FindingKind, number>();
  readonly samples: FailureSample[] = [];
  private readonly all = new TypeStats();
  private readonly firstAudioHistogram: RecordableHistogram = createHistogram();
  private readonly byType = new Map<string, TypeStats>();

  recordEvent(callId: string, result: EventResult): void {
    let stats = this.byType.get(result.eventType);
    if (!stats) this.byType.set(result.eventType, (stats = new TypeStats()));
    const overBudget = result.failures.some(isOverBudget) || result.warnings.some(isOverBudget);
    this.all.count(result, overBudget);
    stats.count(result, overBudget);
    if (result.attempts > 1) this.retried++;
    if (result.duplicate) this.duplicated++;
    if (result.deadLettered) this.deadLettered++;
    // Each kind once per event (allocation-free for the common passing event).
    if (result.failures.length) for (const kind of new Set(result.failures.map((finding) => finding.kind))) this.failuresByKind.set(kind, (this.failuresByKind.get(kind) ?? 0) + 1);
    if (!result.passed && this.samples.length < sampleLimit) {
      this.samples.push({ callId, sequence: result.sequence, eventType: result.eventType, message: result.failures.map((finding) => (finding.path ? `${finding.path}: ${finding.message}` : finding.message)).join("; ") });
    }
  }

  /** Media streams: each turn's time to first audio (or first token), for its percentiles. */
  recordTurn(turn: TurnResult): void {
    const first = turn.media?.firstAudioMs;
    if (first !== undefined) this.firstAudioHistogram.record(Math.max(1, Math.round(first * 1000)));
  }

  firstAudio(): LatencySummary {
    return summarizeHistogram(this.firstAudioHistogram);
  }

  toData(): LoadStatsData {
    const plain = (stats: TypeStats): TypeStatsData => ({ histogram: stats.histogram, events: stats.events, failed: stats.failed, overBudget: stats.overBudget });
    return {
      counters: Object.fromEntries(counterNames.map((name) => [name, this[name]])) as LoadStatsData["counters"],
      all: plain(this.all),
      byType: [...this.byType].map(([eventType, stats]) => [eventType, plain(stats)]),
      failuresByKind: [...this.failuresByKind],
      samples: this.samples,
      firstAudio: this.firstAudioHistogram,
    };
  }

  /** Adds another run's aggregates (a worker thread's): counts summed, histograms merged exactly. */
  merge(other: LoadStatsData): void {
    for (const name of counterNames) this[name] += other.counters[name];
    this.all.merge(other.all);
    for (const [eventType, data] of other.byType) {
      let stats = this.byType.get(eventType);
      if (!stats) this.byType.set(eventType, (stats = new TypeStats()));
      stats.merge(data);
    }
    for (const [kind, count] of other.failuresByKind) this.failuresByKind.set(kind, (this.failuresByKind.get(kind) ?? 0) + count);
    this.samples.push(...other.samples.slice(0, Math.max(0, sampleLimit - this.samples.length)));
    this.firstAudioHistogram.add(other.firstAudio);
  }

  recordCall(passed: boolean): void {
    if (passed) this.callsPassed++;
    else this.callsFailed++;
  }

  get events(): number {
    return this.all.events;
  }
  get eventsFailed(): number {
    return this.all.failed;
  }
  get overBudget(): number {
    return this.all.overBudget;
  }

  latency(): LatencySummary {
    return summarizeHistogram(this.all.histogram);
  }

  perType(): { eventType: string; events: number; failed: number; overBudget: number; latency: LatencySummary }[] {
    return [...this.byType.entries()]
      .map(([eventType, stats]) => ({ eventType, events: stats.events, failed: stats.failed, overBudget: stats.overBudget, latency: summarizeHistogram(stats.histogram) }))
      .sort((a, b) => a.eventType.localeCompare(b.eventType));
  }
}

const toMs = (micros: number) => Math.round(micros / 100) / 10;

export function summarizeHistogram(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) return { count: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
  return {
    count: histogram.count,
    p50Ms: toMs(histogram.percentile(50)),
    p90Ms: toMs(histogram.percentile(90)),
    p95Ms: toMs(histogram.percentile(95)),
    p99Ms: toMs(histogram.percentile(99)),
    maxMs: toMs(histogram.max),
  };
}
