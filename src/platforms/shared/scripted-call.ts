/**
 * What the platforms that run the handler's documents share (Vonage NCCOs, Plivo XML): their settings,
 * the platform time an action takes, and their call driver on CallDriverBase.
 */
import type * as z from "zod";
import { InputError } from "../../core/errors.js";
import { speechMs } from "./timing.js";
import { CallDriverBase, type ObservedMove } from "./call-driver-base.js";
import type { Action, CallerInput, CallWebhook, WebhookRequest } from "../types.js";

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

/** A platform that runs the handler's documents (Vonage NCCOs, Plivo XML): webhooks built as they go out, the end of a document observed. */
export abstract class ScriptedCall extends CallDriverBase<PendingWebhook> {
  readonly reportsExecution = true;
  /** Actions the platform took that came in no reply (reported once, as an `observed` move). */
  protected observed: Action[] = [];
  /** The running document's actions still to run, in order. */
  protected queue: Action[] = [];
  /** The listen waiting for the caller (Plivo's GetInput or GetDigits, Vonage's input action). */
  protected listening: Action | undefined;

  /** How the platform labels what it did by itself ("end of NCCO"). */
  protected abstract readonly observedLabel: string;
  /** Runs the reply until the call waits for the caller, ends, or needs a webhook. */
  protected abstract override execute(): void;
  /** What the caller says, presses, stays silent for, or the native event the script sends. */
  protected abstract callerActs(input: CallerAct): void;

  protected callerStep(input: CallerInput): void {
    if (input.kind === "connect") return;
    if (input.kind === "hangup") this.ended = "caller_hangup";
    else if (input.kind === "tool") throw new Error("this platform has no tool calls (the script validation refuses them)");
    else if (this.cutInto && input.kind !== "event" && !this.actOverPrompt(input)) return;
    else this.callerActs(input);
  }

  /** The platform's listen starts now, cut short of its prompts (a barge-in); it takes the caller's act next. */
  protected listenNow(listen: Action): void {
    this.queue.splice(0, this.queue.indexOf(listen) + 1);
    this.executed.push(listen);
    this.listening = listen;
  }

  /**
   * The caller's keys or words during a prompt (after_ms): over a prompt that lets the caller in (barge_in:
   * nested in a GetInput, a bargeIn talk) they stop it and the listen that follows takes them; over any
   * other they are lost and it plays on. False: the step is used up.
   */
  protected override promptCut(prompt: Action): void {
    const listen = this.queue.find((next) => next.type === "listen");
    // The listen of a prompt that lets the caller in is on while it plays: it is part of this turn.
    if (prompt["barge_in"] === true && listen) this.listenNow(listen);
  }

  protected actOverPrompt(input: CallerAct): boolean {
    const { action, remainingMs } = this.cutInto!;
    if (action["barge_in"] === true && this.listening !== undefined) return true;
    this.clock += remainingMs;
    this.note(
      `${input.kind} during ${action.type} ${action.path}, which does not let the caller in (no barge-in into a listen): it is lost, and the prompt played on`,
    );
    return false;
  }

  protected webhook(pending: PendingWebhook, at: number, afterMs: number): CallWebhook {
    return { eventType: pending.eventType, eventId: this.setup.newId("evt"), waits: pending.waits, afterMs, request: pending.build(at) };
  }

  protected override observe(): ObservedMove | undefined {
    if (this.observed.length === 0) return undefined;
    const actions = this.observed;
    this.observed = [];
    return { kind: "observed", label: this.observedLabel, actions, failures: [] };
  }
}
