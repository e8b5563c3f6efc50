/**
 * Load mode's progress bar and its time left. The time left comes from the rate over the last ten
 * seconds (a moving window, not the last few calls: calls finish in bursts), and what is shown moves
 * toward each new estimate rather than jumping to it.
 */
import type { Output } from "./output.js";

export class EtaEstimator {
  /** (time, calls done), one point per `spacingMs` at most, spanning the last `windowMs`. */
  private readonly points: [number, number][];
  private shown: [number, number] | undefined;
  private lastDone = 0;
  private lastChange: number;

  constructor(
    private readonly total: number,
    start: number,
    private readonly windowMs = 10_000,
    private readonly spacingMs = 250,
  ) {
    this.points = [[start, 0]];
    this.lastChange = start;
  }

  /** Seconds left after `done` calls at time `at` (ms); undefined until a second of progress shows a rate. */
  update(at: number, done: number): number | undefined {
    if (done >= this.total) return 0;
    const points = this.points;
    if (done > this.lastDone) [this.lastDone, this.lastChange] = [done, at];
    if (at - points.at(-1)![0] >= this.spacingMs) points.push([at, done]);
    while (points.length > 2 && at - points[1]![0] >= this.windowMs) points.shift();
    const [since, doneThen] = points[0]!;
    // The rate up to the last call that finished, so the gaps between bursts do not read as slowdowns;
    // a stall of over a second counts, though: the estimate then grows with it.
    const until = at - this.lastChange > 1000 ? at : this.lastChange;
    if (until - since < 1000 || done <= doneThen) return this.shown && Math.max(0, this.shown[1] - (at - this.shown[0]) / 1000);
    const estimate = ((this.total - done) * (until - since)) / (done - doneThen) / 1000 - (at - until) / 1000;
    // Each new estimate moves what is shown a quarter of the way (what was shown counting down meanwhile).
    const counted = this.shown ? Math.max(0, this.shown[1] - (at - this.shown[0]) / 1000) : estimate;
    const seconds = counted + (estimate - counted) * 0.25;
    this.shown = [at, seconds];
    return seconds;
  }
}

/** `1h 02m`, `3m 05s`, `42s`; `…` while unknown. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined) return "…";
  const whole = Math.round(seconds);
  if (whole >= 3600) return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, "0")}m`;
  if (whole >= 60) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, "0")}s`;
  return `${whole}s`;
}

export interface Progress {
  update(done: number): void;
  /** Ends this bar and starts another, for the next phase's calls (--warmup, then the measured ones). */
  next(total: number, what: string): void;
  stop(): void;
}

/** A progress bar on stderr: only for a person watching (a TTY, not --json), and only once a run lasts. */
export async function progressReporter(output: Output, total: number, now: () => number = Date.now, what = "calls"): Promise<Progress> {
  if (output.json || !process.stderr.isTTY) return { update: () => {}, next: () => {}, stop: () => {} };
  const { SingleBar, Presets } = await import("cli-progress");
  const phase = (total: number, what: string) => {
    const bar = new SingleBar(
      { format: `  {bar} {value}/{total} ${what} · {left} left`, stream: process.stderr, hideCursor: true, clearOnComplete: true },
      Presets.shades_classic,
    );
    const started = now();
    return { bar, total, started, eta: new EtaEstimator(total, started), shown: false, lastDraw: 0 };
  };
  let current = phase(total, what);
  return {
    update: (done: number) => {
      const at = now();
      // Called per call: the bar is redrawn at most ten times a second.
      if (at - current.lastDraw < 100 && done < current.total) return;
      current.lastDraw = at;
      const left = formatEta(current.eta.update(at, done));
      if (!current.shown && at - current.started > 1000) {
        current.bar.start(current.total, done, { left });
        current.shown = true;
      } else if (current.shown) current.bar.update(done, { left });
    },
    next: (total: number, what: string) => {
      if (current.shown) current.bar.stop();
      current = phase(total, what);
    },
    stop: () => current.shown && current.bar.stop(),
  };
}
