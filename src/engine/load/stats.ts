/**
 * Aggregates of a load run. Latencies go into HDR histograms (node's built-in perf_hooks one), never
 * into a list, so memory stays flat whether the run has ten thousand calls or a million. Events,
 * caller-script turns and turns played on a media stream are counted apart, each with its failures by
 * kind; the first few failures of any of them are kept as samples naming the call, step and check.
 */
import { createHistogram, type RecordableHistogram } from "node:perf_hooks";
import type { Finding, FindingKind } from "../../checks/reply.js";
import { type EventResult, type TurnResult } from "../results.js";

export interface LatencySummary {
  count: number;
  minMs: number;
  meanMs: number;
  stdevMs: number;
  p50Ms: number;
  p90Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** What a sample is of: a webhook, a caller-script turn, or a turn played on a media stream. */
export type FailureSource = "event" | "turn" | "stream";

export interface FailureSample {
  callId: string;
  source: FailureSource;
  /** Events: the webhook's number in its call and its type. */
  sequence: number | undefined;
  eventType: string | undefined;
  /** Caller scripts: the step (from 0) and its label (`say "…"`); the label only for turns. */
  step: number | undefined;
  stepLabel: string | undefined;
  /** The first failed check: its kind, and where (an expectation: `says`, `instructions[0].text`). */
  kind: FindingKind;
  expectation: string | undefined;
  /** Every failed check of it, `path: message` joined with "; ". */
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

/** Turns (or stream turns): how many, how many failed, and their failed checks by kind. */
export interface TurnCounts {
  total: number;
  failed: number;
  failuresByKind: Map<FindingKind, number>;
}

/** LoadStats as plain data that can cross to another thread (node's histograms are cloneable). */
export interface LoadStatsData {
  counters: Record<(typeof counterNames)[number], number>;
  all: TypeStatsData;
  byType: [string, TypeStatsData][];
  failuresByKind: [FindingKind, number][];
  turns: [number, number, [FindingKind, number][]];
  streams: [number, number, [FindingKind, number][]];
  statuses: [number, number][];
  errors: [string, number][];
  perSecond: number[];
  lateStartsPerSecond: number[];
  busyMsPerSecond: number[];
  sendersPerSecond: number[];
  samples: FailureSample[];
  /** Media streams: time to first audio, per turn. */
  firstAudio: RecordableHistogram;
  /** Custom-LLM sockets: time to the first token, per turn (text, not audio: counted apart). */
  firstToken: RecordableHistogram;
}

const counterNames = [
  "callsStarted",
  "callsPassed",
  "callsFailed",
  "lateStarts",
  "retried",
  "duplicated",
  "deadLettered",
  "lateStartsBusyMs",
  "lateStartsSlotFree",
] as const;

export const sampleLimit = 5;
const isOverBudget = (finding: Finding) => finding.kind === "budget";
const describeFinding = (finding: Finding) => (finding.path ? `${finding.path}: ${finding.message}` : finding.message);

/** Adds each kind among `findings` once (an event with two schema failures counts once under schema). */
function countKinds(into: Map<FindingKind, number>, findings: readonly Finding[]): void {
  for (let i = 0; i < findings.length; i++) {
    const kind = findings[i]!.kind;
    let seen = false;
    for (let j = 0; j < i; j++) if (findings[j]!.kind === kind) seen = true;
    if (!seen) into.set(kind, (into.get(kind) ?? 0) + 1);
  }
}

function addCounts<K>(into: Map<K, number>, entries: Iterable<[K, number]>): void {
  for (const [key, count] of entries) into.set(key, (into.get(key) ?? 0) + count);
}

const newTurnCounts = (): TurnCounts => ({ total: 0, failed: 0, failuresByKind: new Map() });
const turnData = (counts: TurnCounts): LoadStatsData["turns"] => [counts.total, counts.failed, [...counts.failuresByKind]];

export class LoadStats {
  callsStarted = 0;
  callsPassed = 0;
  callsFailed = 0;
  /**
   * Calls that started over 50 ms later than --rate scheduled them: every call slot was busy (--concurrency
   * against a slow handler), or vwh itself fell behind (short of CPU, as in a fresh process's first second).
   * Once behind, vwh catches up with every slot busy either way: how busy its event loop was tells them apart.
   */
  lateStarts = 0;
  retried = 0;
  duplicated = 0;
  deadLettered = 0;
  /** Events' failed checks by kind (each kind once per event). */
  readonly failuresByKind = new Map<FindingKind, number>();
  /** Caller-script turns not on a media stream, and turns that ran on one. */
  readonly turns: TurnCounts = newTurnCounts();
  readonly streams: TurnCounts = newTurnCounts();
  /** Events by the final attempt's status; events without a reply by error code (TIMEOUT, ECONNRESET). */
  private readonly statusCounts = new Float64Array(600);
  readonly errors = new Map<string, number>();
  /** Events finished in each second of the run (the last one partial). */
  readonly perSecond: number[] = [];
  /** Late starts with every call slot taken (not `lateStartsSlotFree`), in each second of the run. */
  readonly lateStartsPerSecond: number[] = [];
  /** Milliseconds of each second the sender's event loop was busy, summed over the loops merged (`sendersPerSecond`). */
  readonly busyMsPerSecond: number[] = [];
  /**
   * Event loops measured in each second: 1 where this thread's was, summed over the threads merged (one that
   * had ended by then is not counted as an idle loop); 0 where nothing measured (a fake clock).
   */
  readonly sendersPerSecond: number[] = [];
  /** Each late start weighed by the busy milliseconds of its own loop in its second, summed over threads. */
  lateStartsBusyMs = 0;
  /**
   * Late starts whose call slot was free, waiting for the call's time, and whose timer fired over 50 ms late:
   * vwh's own lateness for certain (its loop busy, or its process not run: a machine short of CPU).
   */
  lateStartsSlotFree = 0;
  readonly samples: FailureSample[] = [];
  private readonly all = new TypeStats();
  private readonly firstAudioHistogram: RecordableHistogram = createHistogram();
  private readonly firstTokenHistogram: RecordableHistogram = createHistogram();
  private readonly byType = new Map<string, TypeStats>();
  private readonly started: number;
  /** The second of the run events now count in: moved by `advanceTo`, so recording an event reads no clock. */
  private second = 0;

  /** `started`: the run's start on its clock, second 0 of `perSecond`. */
  constructor(started = 0) {
    this.started = started;
    this.perSecond.push(0);
    this.lateStartsPerSecond.push(0);
    this.busyMsPerSecond.push(0);
    this.sendersPerSecond.push(0);
  }

  /**
   * Events from now on count in the second of the run that `at` falls in (a timer calls it, or each event on
   * a fake clock). `busy`: the fraction of the time since its last call the sender's event loop was busy,
   * kept for every second that ends (a stall that held the timer several seconds was as busy in each).
   */
  advanceTo(at: number, busy?: () => number): void {
    const second = Math.max(0, Math.floor((at - this.started) / 1000));
    if (second <= this.second) return;
    while (this.perSecond.length <= second) {
      this.perSecond.push(0);
      this.lateStartsPerSecond.push(0);
      this.busyMsPerSecond.push(0);
      this.sendersPerSecond.push(0);
    }
    if (busy) this.recordBusy(busy(), second);
    this.second = second;
  }

  /** The end of the run: the last (partial) second's busy time. */
  finish(busy?: () => number): void {
    if (busy) this.recordBusy(busy(), this.second + 1);
  }

  /** The seconds from the current one up to `end`: as busy as `fraction`; their late starts weighed by it. */
  private recordBusy(fraction: number, end: number): void {
    const ms = Math.round(fraction * 1000);
    for (let second = this.second; second < end; second++) {
      this.busyMsPerSecond[second] = ms;
      this.sendersPerSecond[second] = 1;
      this.lateStartsBusyMs += this.lateStartsPerSecond[second]! * ms;
    }
  }

  /** A call started over 50 ms behind --rate's schedule. */
  recordLateStart(slotFree: boolean): void {
    this.lateStarts++;
    // Those with a slot free are vwh's for certain; the loop's busy time weighs the others only.
    if (slotFree) this.lateStartsSlotFree++;
    else this.lateStartsPerSecond[this.second]!++;
  }

  /** How busy the sender's event loop was in each second of the run (0 to 1, the mean over threads); undefined where unmeasured. */
  busyPerSecond(): number[] | undefined {
    if (!this.sendersPerSecond.some((loops) => loops > 0)) return undefined;
    return this.busyMsPerSecond.map((ms, second) => {
      const loops = this.sendersPerSecond[second] ?? 0;
      return loops ? Math.round(ms / loops / 10) / 100 : 0;
    });
  }

  /**
   * How busy the sender's event loop was when calls with every slot taken started late (each weighs its own thread's
   * loop in its second); undefined without late starts or where unmeasured. Near 1: vwh was short of CPU. Low:
   * vwh was idle while behind, so every call slot was busy (a loop with a free slot and a call due starts it).
   */
  lateStartsBusy(): number | undefined {
    const pickedUpLate = this.lateStarts - this.lateStartsSlotFree;
    if (pickedUpLate === 0 || !this.sendersPerSecond.some((loops) => loops > 0)) return undefined;
    return Math.round(this.lateStartsBusyMs / pickedUpLate / 10) / 100;
  }

  recordEvent(callId: string, result: EventResult): void {
    this.perSecond[this.second]!++;
    let stats = this.byType.get(result.eventType);
    if (!stats) this.byType.set(result.eventType, (stats = new TypeStats()));
    const overBudget = result.failures.some(isOverBudget) || result.warnings.some(isOverBudget);
    this.all.count(result, overBudget);
    stats.count(result, overBudget);
    const status = result.status;
    if (status !== undefined && status >= 100 && status < 600) this.statusCounts[status]!++;
    else {
      const code = result.errorCode ?? (status === undefined ? (result.failures[0]?.kind ?? "no reply") : `status ${status}`);
      this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    }
    if (result.attempts > 1) this.retried++;
    if (result.duplicate) this.duplicated++;
    if (result.deadLettered) this.deadLettered++;
    if (result.failures.length) countKinds(this.failuresByKind, result.failures);
    if (!result.passed)
      this.sample(result.failures, {
        callId,
        source: "event",
        sequence: result.sequence,
        eventType: result.eventType,
        step: result.step,
        stepLabel: undefined,
      });
  }

  /** A caller-script turn: counted under streams when it ran on a media stream; its time to first audio. */
  recordTurn(callId: string, turn: TurnResult): void {
    const counts = turn.media ? this.streams : this.turns;
    counts.total++;
    if (!turn.passed) {
      counts.failed++;
      countKinds(counts.failuresByKind, turn.failures);
      this.sample(turn.failures, {
        callId,
        source: turn.media ? "stream" : "turn",
        sequence: undefined,
        eventType: undefined,
        step: turn.step,
        stepLabel: turn.label,
      });
    }
    const first = turn.media?.firstAudioMs;
    if (first !== undefined)
      (turn.media!.measures === "token" ? this.firstTokenHistogram : this.firstAudioHistogram).record(Math.max(1, Math.round(first * 1000)));
  }

  private sample(findings: readonly Finding[], where: Omit<FailureSample, "kind" | "expectation" | "message">): void {
    if (this.samples.length >= sampleLimit) return;
    const first = findings[0];
    this.samples.push({
      ...where,
      kind: first?.kind ?? "expect",
      expectation: first?.path,
      message: findings.length ? findings.map(describeFinding).join("; ") : "failed",
    });
  }

  firstAudio(): LatencySummary {
    return summarizeHistogram(this.firstAudioHistogram);
  }

  firstToken(): LatencySummary {
    return summarizeHistogram(this.firstTokenHistogram);
  }

  /** Events by status code, in code order. */
  statuses(): [number, number][] {
    const counts: [number, number][] = [];
    for (let status = 100; status < 600; status++) if (this.statusCounts[status]) counts.push([status, this.statusCounts[status]!]);
    return counts;
  }

  /** Events by status class (2xx, 4xx…), and those without a reply. */
  statusClasses(): { "1xx": number; "2xx": number; "3xx": number; "4xx": number; "5xx": number; errors: number } {
    const classes = { "1xx": 0, "2xx": 0, "3xx": 0, "4xx": 0, "5xx": 0, errors: 0 };
    for (const [status, count] of this.statuses()) classes[`${Math.floor(status / 100)}xx` as "2xx"] += count;
    for (const count of this.errors.values()) classes.errors += count;
    return classes;
  }

  toData(): LoadStatsData {
    const plain = (stats: TypeStats): TypeStatsData => ({
      histogram: stats.histogram,
      events: stats.events,
      failed: stats.failed,
      overBudget: stats.overBudget,
    });
    return {
      counters: Object.fromEntries(counterNames.map((name) => [name, this[name]])) as LoadStatsData["counters"],
      all: plain(this.all),
      byType: [...this.byType].map(([eventType, stats]) => [eventType, plain(stats)]),
      failuresByKind: [...this.failuresByKind],
      turns: turnData(this.turns),
      streams: turnData(this.streams),
      statuses: this.statuses(),
      errors: [...this.errors],
      perSecond: this.perSecond,
      lateStartsPerSecond: this.lateStartsPerSecond,
      busyMsPerSecond: this.busyMsPerSecond,
      sendersPerSecond: this.sendersPerSecond,
      samples: this.samples,
      firstAudio: this.firstAudioHistogram,
      firstToken: this.firstTokenHistogram,
    };
  }

  /** Adds another run's aggregates (a worker thread's): counts summed, histograms merged exactly, seconds aligned from each start. */
  merge(other: LoadStatsData): void {
    for (const name of counterNames) this[name] += other.counters[name];
    this.all.merge(other.all);
    for (const [eventType, data] of other.byType) {
      let stats = this.byType.get(eventType);
      if (!stats) this.byType.set(eventType, (stats = new TypeStats()));
      stats.merge(data);
    }
    addCounts(this.failuresByKind, other.failuresByKind);
    for (const [counts, [total, failed, kinds]] of [
      [this.turns, other.turns],
      [this.streams, other.streams],
    ] as const) {
      counts.total += total;
      counts.failed += failed;
      addCounts(counts.failuresByKind, kinds);
    }
    for (const [status, count] of other.statuses) this.statusCounts[status]! += count;
    addCounts(this.errors, other.errors);
    for (const [into, from] of [
      [this.perSecond, other.perSecond],
      [this.lateStartsPerSecond, other.lateStartsPerSecond],
      [this.busyMsPerSecond, other.busyMsPerSecond],
      [this.sendersPerSecond, other.sendersPerSecond],
    ] as const) {
      from.forEach((count, second) => {
        while (into.length <= second) into.push(0);
        into[second]! += count;
      });
    }
    this.samples.push(...other.samples.slice(0, Math.max(0, sampleLimit - this.samples.length)));
    this.firstAudioHistogram.add(other.firstAudio);
    this.firstTokenHistogram.add(other.firstToken);
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
      .map(([eventType, stats]) => ({
        eventType,
        events: stats.events,
        failed: stats.failed,
        overBudget: stats.overBudget,
        latency: summarizeHistogram(stats.histogram),
      }))
      .sort((a, b) => a.eventType.localeCompare(b.eventType));
  }
}

const toMs = (micros: number) => Math.round(micros / 100) / 10;

export function summarizeHistogram(histogram: RecordableHistogram): LatencySummary {
  if (histogram.count === 0) return { count: 0, minMs: 0, meanMs: 0, stdevMs: 0, p50Ms: 0, p90Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
  return {
    count: histogram.count,
    minMs: toMs(histogram.min),
    meanMs: toMs(histogram.mean),
    stdevMs: toMs(histogram.stddev),
    p50Ms: toMs(histogram.percentile(50)),
    p90Ms: toMs(histogram.percentile(90)),
    p95Ms: toMs(histogram.percentile(95)),
    p99Ms: toMs(histogram.percentile(99)),
    maxMs: toMs(histogram.max),
  };
}
