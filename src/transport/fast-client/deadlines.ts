/**
 * Timeouts of every in-flight request from one shared timer (issue 15): a queue of deadlines kept in
 * order, with a single timer armed for the earliest. Load mode gives every request the same timeout,
 * so a new deadline is nearly always the latest and joins the tail in O(1); cancelled ones are dropped
 * lazily from the head. A timer and an AbortController per request were a measurable share of the
 * per-request cost of the general-purpose client.
 */
export interface Deadline {
  readonly at: number;
  cancelled: boolean;
  readonly fire: () => void;
}

/** What the queue needs of the world: a monotonic clock and one timer (injectable for tests). */
export interface Scheduler {
  now(): number;
  setTimer(delayMs: number, callback: () => void): unknown;
  clearTimer(handle: unknown): void;
}

export const systemScheduler: Scheduler = {
  now: () => performance.now(),
  setTimer: (delayMs, callback) => setTimeout(callback, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export class DeadlineQueue {
  private entries: Deadline[] = [];
  private head = 0;
  private timer: unknown;
  private timerAt = Infinity;

  constructor(private readonly scheduler: Scheduler = systemScheduler) {}

  now(): number {
    return this.scheduler.now();
  }

  /** Calls `fire` after `delayMs` unless cancelled first. */
  add(delayMs: number, fire: () => void): Deadline {
    const deadline: Deadline = { at: this.scheduler.now() + delayMs, cancelled: false, fire };
    const last = this.entries[this.entries.length - 1];
    if (this.head === this.entries.length || !last || last.at <= deadline.at) this.entries.push(deadline);
    else this.entries.splice(this.insertionIndex(deadline.at), 0, deadline);
    if (deadline.at < this.timerAt) this.arm(deadline.at);
    return deadline;
  }

  cancel(deadline: Deadline): void {
    deadline.cancelled = true;
    this.dropCancelled();
  }

  get size(): number {
    return this.entries.length - this.head;
  }

  close(): void {
    if (this.timer !== undefined) this.scheduler.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
    this.entries = [];
    this.head = 0;
  }

  private insertionIndex(at: number): number {
    let low = this.head;
    let high = this.entries.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.entries[middle]!.at <= at) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  private dropCancelled(): void {
    while (this.head < this.entries.length && this.entries[this.head]!.cancelled) this.head++;
    if (this.head === this.entries.length) {
      this.entries.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }

  private arm(at: number): void {
    if (this.timer !== undefined) this.scheduler.clearTimer(this.timer);
    this.timerAt = at;
    this.timer = this.scheduler.setTimer(Math.max(1, Math.ceil(at - this.scheduler.now())), () => this.expire());
  }

  private expire(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.scheduler.now();
    while (this.head < this.entries.length) {
      const first = this.entries[this.head]!;
      if (!first.cancelled && first.at > now) break;
      this.head++;
      if (!first.cancelled) {
        first.cancelled = true;
        first.fire();
      }
    }
    this.dropCancelled();
    const next = this.entries[this.head];
    if (next && next.at < this.timerAt) this.arm(next.at);
  }
}
