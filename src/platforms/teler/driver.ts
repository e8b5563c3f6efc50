/**
 * A Teler call (docs/platforms/teler.md): status callbacks call.initiated/ringing/answered (to the status callback
 * URL, when one is configured), the flow_url request, then what its reply says — a media stream (a
 * `stream` move with protocol "teler": the engine takes the call onto the WebSocket), a recording to play,
 * or a hang-up — and call.completed.
 */
import type { CallerInput, CallSetup, CallWebhook, DeliveryOutcome, EndReason, StreamEnd } from "../types.js";
import { CallDriverBase } from "../shared/call-driver-base.js";
import { speechMs } from "../shared/timing.js";
import { flowBody, flowEventType, identifyTeler, newTelerCall, statusBody, type TelerCall } from "./messages.js";

interface Pending {
  eventType: string;
  body: Buffer;
  url: URL;
  waits: boolean;
}

export class TelerCallDriver extends CallDriverBase<Pending> {
  readonly #call: TelerCall;
  readonly #statusUrl: URL | undefined;
  #answeredAt: number | undefined;

  constructor(setup: CallSetup) {
    super(setup);
    const { callId, from, to, direction } = setup.call;
    this.#call = newTelerCall(callId, from, to, direction);
    // --status-callback (absolute), or the script's teler_status_callback (relative to the flow URL).
    const configured = setup.settings["statusCallback"] ?? setup.settings["teler_status_callback"];
    this.#statusUrl = typeof configured === "string" ? new URL(configured, setup.url) : undefined;
  }

  protected closingWebhooks(reason: EndReason): void {
    this.clock += 200;
    const duration = this.#answeredAt === undefined ? 0 : Math.round((this.clock - this.#answeredAt) / 1000);
    this.#status("call.completed", { status: reason === "failed" ? "failed" : "completed", duration });
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (webhook.eventType !== flowEventType) return;
    const action = outcome.ok && outcome.parsed.failures.length === 0 ? outcome.parsed.actions[0] : undefined;
    if (!action) {
      this.ended = "failed"; // no usable flow: Teler cannot go on with the call
      return;
    }
    if (action.type === "stream") {
      const parameters: Record<string, string> = {};
      for (const field of ["sample_rate", "chunk_size", "record"]) if (action[field] !== undefined) parameters[field] = String(action[field]);
      this.stream = { url: new URL(String(action["url"])), protocol: "teler", headers: {}, parameters, path: action.path };
    } else if (action.type === "play") {
      this.clock += 3000;
      this.ended = "handler_hangup"; // the recording plays, and the flow ends there (unverified)
    } else this.ended = "handler_hangup";
  }

  protected callerStep(input: CallerInput): void {
    switch (input.kind) {
      case "connect":
        this.#status("call.initiated", { status: "initiated" });
        this.clock += 2500;
        this.#status("call.ringing", { status: "ringing" });
        this.clock += 4000;
        this.#answeredAt = this.clock;
        this.#status("call.answered", { status: "answered" });
        this.outbox.push({ eventType: flowEventType, body: flowBody(this.#call), url: this.setup.url, waits: true }, this.clock);
        return;
      case "hangup":
        this.ended ??= "caller_hangup";
        return;
      case "event":
        this.outbox.push(
          {
            eventType: input.type,
            body: statusBody(this.#call, input.type, new Date(this.clock), input.payload),
            url: this.#statusUrl ?? this.setup.url,
            waits: false,
          },
          this.clock,
        );
        return;
      case "say":
      case "interrupt":
        // Outside a stream nobody listens: Teler only hears the caller through the agent's socket.
        this.clock += speechMs(input.text);
        return;
      case "silence":
        this.clock += input.ms;
        return;
      default:
        throw new Error(`Teler scripts take no ${input.kind} step (the script validation refuses it)`);
    }
  }

  override streamEnded(end: StreamEnd): void {
    this.ended ??= end.kind === "caller_hangup" ? "caller_hangup" : end.kind === "failed" ? "failed" : "handler_hangup";
  }

  #status(event: string, data: Record<string, unknown>): void {
    if (this.#statusUrl)
      this.outbox.push({ eventType: event, body: statusBody(this.#call, event, new Date(this.clock), data), url: this.#statusUrl, waits: false }, this.clock);
  }

  protected webhook(pending: Pending, _at: number, afterMs: number): CallWebhook {
    return {
      eventType: pending.eventType,
      eventId: identifyTeler(pending.body).eventId ?? this.setup.newId("evt"),
      waits: pending.waits,
      afterMs,
      request: { method: "POST", url: pending.url, body: pending.body, contentType: "application/json", headers: {} },
    };
  }
}
