/**
 * What every platform's reactive call has in common (README: Platforms and caller scripts): the order in which a call's moves come
 * out — webhooks already decided, then actions the platform took by itself (the end of a document hangs
 * up, a REST command), then the end of the call with its closing webhooks, then a media stream, then the
 * caller — and the platform clock that gives each webhook its `afterMs`. A platform supplies the request
 * of each queued webhook, what the caller's steps do, its closing webhooks, and how the call goes on when
 * nothing is pending (`execute`).
 */
import { Outbox } from "./outbox.js";
import type {
  Action,
  CallDriver,
  CallerInput,
  CallSetup,
  CallWebhook,
  DeliveryOutcome,
  DriverMove,
  EndReason,
  MediaStreamRequest,
  StreamEnd,
} from "../types.js";

export type ObservedMove = Extract<DriverMove, { kind: "observed" }>;

export abstract class CallDriverBase<Pending> implements CallDriver {
  protected readonly setup: CallSetup;
  /** Platform time of the call, ms since the epoch. */
  protected clock: number;
  /** Webhooks decided but not yet sent. */
  protected readonly outbox: Outbox<Pending>;
  protected ended: EndReason | undefined;
  /** A media stream the call moves onto next. */
  protected stream: MediaStreamRequest | undefined;
  protected awaitingCaller = false;
  /** Actions of the replies carried out since the last move, reported as an `executed` move. */
  protected executed: Action[] = [];
  /**
   * The prompt the caller's step cut into (an `after_ms` inside the turn's audio), how much of it had
   * played and how much was left; set from the cut until the step has been taken.
   */
  protected cutInto: { action: Action; playedMs: number; remainingMs: number } | undefined;
  /** The caller's next step acts this long after the start of the turn's audio, until it has. */
  #actAfterMs: number | undefined;
  /** Platform time the turn's first audio started. */
  #audioStart: number | undefined;
  #notes: string[] = [];
  #endSent = false;

  constructor(setup: CallSetup) {
    this.setup = setup;
    this.clock = setup.start.getTime();
    this.outbox = new Outbox(this.clock);
  }

  /** The webhook a queued one becomes as it goes out: `at` is its platform time, `afterMs` the time since the previous one. */
  protected abstract webhook(pending: Pending, at: number, afterMs: number): CallWebhook;
  /** Queues the webhooks that report the end of the call. */
  protected abstract closingWebhooks(reason: EndReason): void;
  /** What the caller's step does (the clock has moved by the step's `afterMs`). */
  protected abstract callerStep(input: CallerInput): void;
  abstract replied(webhook: CallWebhook, outcome: DeliveryOutcome): void;

  /** What the platform did by itself that came in no reply, one `observed` move at a time; by default nothing. */
  protected observe(): ObservedMove | undefined {
    return undefined;
  }

  /** Nothing pending: goes on until the call waits for the caller, ends, or needs a webhook. By default the caller's turn. */
  protected execute(): void | Promise<void> {
    this.awaitingCaller = true;
  }

  async next(): Promise<DriverMove> {
    for (;;) {
      const note = this.#notes.shift();
      if (note !== undefined) return { kind: "note", message: note };
      if (this.executed.length > 0) {
        const actions = this.executed;
        this.executed = [];
        return { kind: "executed", actions };
      }
      const sent = this.outbox.shift(this.clock);
      if (sent) return { kind: "send", webhook: this.webhook(sent.item, sent.at, sent.afterMs) };
      const observed = this.observe();
      if (observed) return observed;
      if (this.ended) {
        if (!this.#endSent) {
          this.#endSent = true;
          this.closingWebhooks(this.ended);
          continue;
        }
        return { kind: "ended", reason: this.ended };
      }
      if (this.stream) {
        const stream = this.stream;
        this.stream = undefined;
        return { kind: "stream", stream };
      }
      if (this.awaitingCaller) return { kind: "await-caller" };
      // Awaited only when it waits for something: a synchronous step must not yield to other calls.
      const running = this.execute();
      if (running) await running;
    }
  }

  caller(input: CallerInput, afterMs: number | undefined): void {
    this.awaitingCaller = false;
    if (this.cutInto === undefined && this.#actAfterMs !== undefined) {
      const audio = this.#audioStart === undefined ? "the turn played no audio" : `its audio ended ${this.clock - this.#audioStart} ms after it began`;
      this.note(`after_ms ${this.#actAfterMs} is past the end of the turn's audio (${audio}): the caller acted when the line went quiet`);
    } else if (this.cutInto === undefined && afterMs !== undefined) this.clock += afterMs;
    this.#actAfterMs = undefined;
    this.#audioStart = undefined;
    this.callerStep(input);
    this.cutInto = undefined;
  }

  actDuringPlayback(afterMs: number): void {
    this.#actAfterMs = afterMs;
  }

  /** The caller's step cuts into `prompt` (still in the prompt's turn): a platform whose listen is already on during it starts it here. */
  protected promptCut(_prompt: Action): void {}

  /** A line for the turn's report that is not a failure. */
  protected note(message: string): void {
    this.#notes.push(message);
  }

  /**
   * Plays a prompt for `ms` of platform time; false when the caller's next step acts inside it (its
   * `after_ms` from the start of the turn's audio): the clock stops there, `cutInto` says where, and the
   * caller acts now. The platform's `callerStep` decides what the act does to the prompt.
   */
  protected playAudio(action: Action, ms: number): boolean {
    const start = (this.#audioStart ??= this.clock);
    if (this.#actAfterMs !== undefined && start + this.#actAfterMs < this.clock + ms) {
      const at = Math.max(start + this.#actAfterMs, this.clock);
      this.cutInto = { action, playedMs: at - this.clock, remainingMs: this.clock + ms - at };
      this.clock = at;
      this.#actAfterMs = undefined;
      this.awaitingCaller = true;
      this.promptCut(action);
      return false;
    }
    this.clock += ms;
    return true;
  }

  streamEnded(end: StreamEnd): void {
    if (end.kind === "caller_hangup") this.ended = "caller_hangup";
    else if (end.kind === "failed") this.ended = "failed";
    else this.agentClosedStream();
  }

  /** The application closed the media stream: by default the reply goes on. */
  protected agentClosedStream(): void {}

  async close(): Promise<void> {}
}
