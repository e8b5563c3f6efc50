/**
 * The webhooks a call driver has decided but not yet sent, in order, each with its platform time: the time
 * it was decided at when it is stamped (its body already says when), else the time it goes out. Taken out
 * in order with the platform time since the previous one (CallWebhook.afterMs).
 */
export class Outbox<T> {
  readonly #queue: { item: T; at: number | undefined }[] = [];
  #lastSentAt: number;

  constructor(startMs: number) {
    this.#lastSentAt = startMs;
  }

  /** `at`: the platform time the webhook was decided at; without it, the time it is sent at. */
  push(item: T, at?: number): void {
    this.#queue.push({ item, at });
  }

  /** Goes out before everything queued, at the time it is sent (a followed redirect: the same request again). */
  pushFront(item: T): void {
    this.#queue.unshift({ item, at: undefined });
  }

  /** The next webhook, its platform time (`now` when unstamped), and the time since the previous one. */
  shift(now: number): { item: T; at: number; afterMs: number } | undefined {
    const entry = this.#queue.shift();
    if (!entry) return undefined;
    const at = entry.at ?? now;
    const afterMs = at - this.#lastSentAt;
    this.#lastSentAt = at;
    return { item: entry.item, at, afterMs };
  }
}
