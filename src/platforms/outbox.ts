/**
 * The webhooks a call driver has decided but not yet sent, each stamped with the platform time it was
 * decided at; taken out in order with the platform time since the previous one (CallWebhook.afterMs).
 */
export class Outbox<T extends { at: number }> {
  readonly #queue: T[] = [];
  #lastSentAt: number;

  constructor(startMs: number) {
    this.#lastSentAt = startMs;
  }

  push(item: T): void {
    this.#queue.push(item);
  }

  shift(): { item: T; afterMs: number } | undefined {
    const item = this.#queue.shift();
    if (!item) return undefined;
    const afterMs = Math.max(0, item.at - this.#lastSentAt);
    this.#lastSentAt = Math.max(this.#lastSentAt, item.at);
    return { item, afterMs };
  }
}
