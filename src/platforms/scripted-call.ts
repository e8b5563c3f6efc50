/**
 * What every platform's reactive call has in common (SPEC §7): the order in which a call's moves come
 * out — webhooks already decided, then actions the platform took by itself (the end of a document hangs
 * up), then the end of the call with its closing webhooks, then a media stream, then the caller — and
 * the platform clock that gives each webhook its `afterMs`. A platform supplies what it sends and how
 * it runs its reply (`execute`).
 */
import type * as z from "zod";
import { InputError } from "../errors.js";
import { speechMs } from "./timing.js";
import type { Action, CallDriver, CallerInput, CallSetup, CallWebhook, DeliveryOutcome, DriverMove, EndReason, MediaStreamRequest, StreamEnd, WebhookRequest } from "./types.js";

/** A script's `settings` through the platform's schema; a bad one is the file's error (exit 2). */
export function parseSettings<T extends z.ZodType>(schema: T, settings: Readonly<Record<string, unknown>>): z.output<T> {
  const parsed = schema.safeParse(settings);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new InputError(`settings.${issue.path.join(".")}: ${issue.message}`);
}

/** Platform time a speak, play or pause takes (speech at TTS pace, 3 s a clip, every loop again); 0 for others. */
export function actionMs(action: Action, defaultPauseMs: number): number {
  const loop = typeof action["loop"] === "number" && action["loop"] > 0 ? action["loop"] : 1;
  if (action.type === "speak") return speechMs(String(action["text"] ?? "")) * loop;
  if (action.type === "play") return 3000 * loop;
  if (action.type === "pause") return typeof action["duration_ms"] === "number" ? action["duration_ms"] : defaultPauseMs;
  return 0;
}

export type CallerAct = Exclude<CallerInput, { kind: "connect" | "hangup" | "tool" }>;

export interface PendingWebhook {
  eventType: string;
  waits: boolean;
  /** Built when it goes out, so that it carries the platform time of sending. */
  build(clock: number): WebhookRequest;
}

export abstract class ScriptedCall implements CallDriver {
  protected readonly setup: CallSetup;
  /** Platform time of the call, ms since the epoch. */
  protected clock: number;
  protected outbox: PendingWebhook[] = [];
  /** Actions the platform took that came in no reply (reported once, as an `observed` move). */
  protected observed: Action[] = [];
  protected ended: EndReason | undefined;
  protected stream: MediaStreamRequest | undefined;
  protected awaitingCaller = false;
  #lastSentAt: number;
  #endSent = false;

  constructor(setup: CallSetup) {
    this.setup = setup;
    this.clock = setup.start.getTime();
    this.#lastSentAt = this.clock;
  }

  /** How the platform labels what it did by itself ("end of NCCO"). */
  protected abstract readonly observedLabel: string;
  /** Queues the webhooks that report the end of the call (Vonage `completed`, Plivo's hangup URL). */
  protected abstract closingWebhooks(reason: EndReason): void;
  /** Runs the reply until the call waits for the caller, ends, or needs a webhook. */
  protected abstract execute(): void;
  abstract replied(webhook: CallWebhook, outcome: DeliveryOutcome): void;
  /** What the caller says, presses, stays silent for, or the native event the script sends. */
  protected abstract callerActs(input: CallerAct): void;

  caller(input: CallerInput, afterMs: number | undefined): void {
    this.awaitingCaller = false;
    if (afterMs !== undefined) this.clock += afterMs;
    if (input.kind === "connect") return;
    if (input.kind === "hangup") this.ended = "caller_hangup";
    else if (input.kind === "tool") throw new Error("this platform has no tool calls (the script validation refuses them)");
    else this.callerActs(input);
  }

  async next(): Promise<DriverMove> {
    for (;;) {
      const pending = this.outbox.shift();
      if (pending) {
        const afterMs = this.clock - this.#lastSentAt;
        this.#lastSentAt = this.clock;
        return { kind: "send", webhook: { eventType: pending.eventType, eventId: this.setup.newId("evt"), waits: pending.waits, afterMs, request: pending.build(this.clock) } };
      }
      if (this.observed.length > 0) {
        const actions = this.observed;
        this.observed = [];
        return { kind: "observed", label: this.observedLabel, actions, failures: [] };
      }
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
      this.execute();
    }
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
