/**
 * vwh's own platform as a reactive call (README: Platforms and caller scripts): call.started, then it executes the handler's
 * instructions the way a voice platform would — speech and pauses take platform time, a listen waits for
 * the caller, hangup/transfer end the call with call.ended — and sends the event that leads to.
 */
import type { Envelope } from "./envelope.js";
import { attemptHeader, type Action, type CallerInput, type CallSetup, type CallWebhook, type DeliveryOutcome, type EndReason } from "../types.js";
import { CallDriverBase } from "../shared/call-driver-base.js";
import { speechMs } from "../shared/timing.js";
import { waitsForInstructions } from "./envelope.js";

interface Pending {
  eventType: string;
  payload: Record<string, unknown>;
  url?: URL;
}

export class VwhCallDriver extends CallDriverBase<Pending> {
  readonly reportsExecution = true;
  #sequence = 0;
  #url: URL;
  /** Instructions of the last reply still to execute. */
  #queue: Action[] = [];
  /** Index of the last speak/play executed, and whether it could be interrupted. */
  #prompt: { index: number; bargeIn: boolean } | undefined;
  /** The caller's barge-in speech, heard by the next listen. */
  #heard: { text: string; confidence: number } | undefined;
  /** A stream instruction met: the call lives on the media socket from then on. */
  #streaming = false;

  constructor(setup: CallSetup) {
    super(setup);
    this.#url = setup.url;
    const { from, to, direction } = setup.call;
    this.outbox.push({ eventType: "call.started", payload: { from: from ?? "+15550100001", to: to ?? "+15550100002", direction: direction ?? "inbound" } });
  }

  protected closingWebhooks(ended: EndReason): void {
    const reason = ended === "rejected" ? "failed" : ended;
    this.outbox.push({ eventType: "call.ended", payload: { reason, duration_s: Math.round((this.clock - this.setup.start.getTime()) / 1000) } });
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (!webhook.waits || this.ended) return;
    if (!outcome.ok || outcome.parsed.failures.length > 0) {
      // A platform that cannot use the reply drops the call (Twilio: "an application error has occurred").
      this.ended = "failed";
      return;
    }
    this.#queue = [...outcome.parsed.actions];
    this.#prompt = undefined;
  }

  protected callerStep(input: CallerInput): void {
    switch (input.kind) {
      case "connect":
        return;
      case "hangup":
        this.ended = "caller_hangup";
        return;
      case "say":
        // Detected as the caller starts speaking, transcribed once they are done.
        this.outbox.push({ eventType: "speech.detected", payload: {} }, this.clock);
        this.clock += speechMs(input.text);
        this.outbox.push(this.#transcribed(input.text, input.confidence), this.clock);
        return;
      case "interrupt":
        if (this.#prompt?.bargeIn) {
          // Heard over the prompt: playback stops, and the listen that follows gets the words.
          this.outbox.push({ eventType: "speech.detected", payload: {} });
          this.outbox.push({ eventType: "playback.finished", payload: { instruction_index: this.#prompt.index, interrupted: true } });
          this.#heard = { text: input.text, confidence: input.confidence };
        } else {
          this.clock += speechMs(input.text);
          this.outbox.push(this.#transcribed(input.text, input.confidence));
        }
        return;
      case "press":
        this.clock += 300 * input.digits.length;
        this.outbox.push({ eventType: "dtmf.received", payload: { digits: input.digits } });
        return;
      case "silence":
        this.clock += input.ms;
        this.outbox.push(this.#transcribed("", 0));
        return;
      case "event":
        this.outbox.push({ eventType: input.type, payload: input.payload });
        return;
      case "tool":
        throw new Error("the vwh platform has no tool calls (the script validation refuses them)");
    }
  }

  #transcribed(text: string, confidence: number): Pending {
    return { eventType: "speech.transcribed", payload: { text, confidence, is_final: true } };
  }

  /** Runs the queued instructions until the call waits for the caller, ends, or needs a webhook. */
  protected override execute(): void {
    const action = this.#queue.shift();
    if (!action) {
      if (this.#streaming) {
        // The call lives on the media stream now: webhooks stop until someone hangs up.
        this.awaitingCaller = true;
        return;
      }
      // Nothing left to do and nobody listening: the platform reports the end of playback and asks again.
      this.outbox.push({ eventType: "playback.finished", payload: { instruction_index: this.#prompt?.index ?? 0, interrupted: false } });
      return;
    }
    this.executed.push(action);
    const index = Number(/\[(\d+)\]$/.exec(action.path)?.[1] ?? 0);
    switch (action.type) {
      case "speak":
        this.clock += speechMs(String(action["text"] ?? ""));
        this.#prompt = { index, bargeIn: action["barge_in"] === true };
        return;
      case "play":
        this.clock += 3000 * (typeof action["loop"] === "number" ? action["loop"] : 1);
        this.#prompt = { index, bargeIn: action["barge_in"] === true };
        return;
      case "pause":
        this.clock += typeof action["duration_ms"] === "number" ? action["duration_ms"] : 0;
        return;
      case "record":
        this.clock += 1000 * (typeof action["max_duration_s"] === "number" ? action["max_duration_s"] : 5);
        return;
      case "listen":
        if (this.#heard) {
          this.outbox.push(this.#transcribed(this.#heard.text, this.#heard.confidence));
          this.#heard = undefined;
          this.#queue = [];
        } else this.awaitingCaller = true;
        return;
      case "stream": {
        this.#streaming = true;
        // The socket's start message carries the same stream_id as the webhook.
        const streamId = this.setup.newId("str");
        const parameters: Record<string, string> = { stream_id: streamId };
        for (const field of ["track", "bidirectional", "chunk_ms"]) if (action[field] !== undefined) parameters[field] = String(action[field]);
        this.stream = { url: new URL(String(action["url"])), protocol: "vwh", headers: {}, parameters, path: action.path };
        this.outbox.push({ eventType: "media.stream.connected", payload: { stream_id: streamId, encoding: "audio/x-mulaw", sample_rate: 8000 } });
        return;
      }
      case "transfer":
        this.ended = "transferred";
        return;
      case "hangup":
        this.ended = "handler_hangup";
        return;
      case "redirect":
        this.#url = new URL(String(action["url"]));
        this.#queue = [];
        this.outbox.push({ eventType: "call.redirected", payload: {}, url: this.#url });
        return;
      default:
        return;
    }
  }

  protected webhook(pending: Pending, at: number, afterMs: number): CallWebhook {
    const envelope: Envelope = {
      event_type: pending.eventType,
      event_id: this.setup.newId("evt"),
      call_id: this.setup.call.callId,
      sequence: ++this.#sequence,
      timestamp: new Date(at).toISOString(),
      payload: pending.payload,
    };
    return {
      eventType: pending.eventType,
      eventId: envelope.event_id,
      waits: waitsForInstructions(pending.eventType),
      afterMs,
      request: {
        method: "POST",
        url: pending.url ?? this.#url,
        body: Buffer.from(JSON.stringify(envelope)),
        contentType: "application/json",
        headers: { [attemptHeader]: "1" },
      },
    };
  }
}
