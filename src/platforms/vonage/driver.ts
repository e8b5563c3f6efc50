/**
 * A Vonage call, played from a caller script (SPEC §7, PROVIDERS §2): the leg is created (started,
 * ringing to the event URL), the answer URL is asked for the NCCO (answered follows), and the NCCO runs
 * action by action. Prompts take platform time; `input` waits for the caller and sends its result to
 * the input's eventUrl; `notify` sends its payload to its eventUrl; a reply NCCO to either replaces
 * the rest of the current one, and no reply lets it go on. A connect to a phone, SIP, app or VBC
 * endpoint (or a conversation) hands the call over; a connect to a websocket becomes a media stream;
 * the end of the NCCO hangs up. Every ending sends `completed` to the event URL.
 *
 * Settings (a script's `settings`): `answer_method` GET (default) or POST; `event_url` (default: `event`
 * next to the answer URL, so …/webhooks/answer → …/webhooks/event); `event_method` POST (default) or GET.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import { InputError } from "../../errors.js";
import { speechMs } from "../timing.js";
import type { Action, CallDriver, CallerInput, CallSetup, CallWebhook, DeliveryOutcome, DriverMove, EndReason, MediaStreamRequest, StreamEnd } from "../types.js";
import { msisdn, vonageRequest } from "./events.js";

const method = z.enum(["GET", "POST"], { error: "expected GET or POST" });
export const vonageSettingsSchema = z.looseObject({
  answer_method: method.default("GET"),
  event_url: z.url({ protocol: /^https?$/, error: "expected an absolute http(s) URL" }).optional(),
  event_method: method.default("POST"),
});

interface Pending {
  eventType: string;
  url: URL;
  method: "GET" | "POST";
  fields: Record<string, unknown>;
  waits: boolean;
}

/** The input action waiting for the caller. */
interface Listening {
  action: Action;
}

export class VonageCallDriver implements CallDriver {
  readonly #setup: CallSetup;
  readonly #answerUrl: URL;
  readonly #answerMethod: "GET" | "POST";
  readonly #eventUrl: URL;
  readonly #eventMethod: "GET" | "POST";
  readonly #conversationUuid = `CON-${randomUUID()}`;
  #clock: number;
  #lastSentAt: number;
  #answeredAt: number | undefined;
  #queue: Action[] = [];
  #outbox: Pending[] = [];
  /** The last reply NCCO's length, for the path of its end ("end of NCCO" hangs up). */
  #nccoLength = 0;
  #ended: EndReason | undefined;
  #endSent = false;
  #listening: Listening | undefined;
  #awaitingCaller = false;
  #prompt: { bargeIn: boolean } | undefined;
  #stream: MediaStreamRequest | undefined;
  #observed: Action[] = [];

  constructor(setup: CallSetup) {
    const settings = vonageSettingsSchema.safeParse(setup.settings);
    if (!settings.success) {
      const issue = settings.error.issues[0]!;
      throw new InputError(`settings.${issue.path.join(".")}: ${issue.message}`);
    }
    this.#setup = setup;
    this.#answerUrl = setup.url;
    this.#answerMethod = settings.data.answer_method;
    this.#eventUrl = new URL(settings.data.event_url ?? "event", setup.url);
    this.#eventMethod = settings.data.event_method;
    this.#clock = setup.start.getTime();
    this.#lastSentAt = this.#clock;
    this.#status("started");
    this.#status("ringing");
    this.#outbox.push({ eventType: "answer", url: this.#answerUrl, method: this.#answerMethod, fields: this.#answerFields(), waits: true });
  }

  async next(): Promise<DriverMove> {
    for (;;) {
      const pending = this.#outbox.shift();
      if (pending) return { kind: "send", webhook: this.#webhook(pending) };
      if (this.#observed.length > 0) {
        const actions = this.#observed;
        this.#observed = [];
        return { kind: "observed", label: "end of NCCO", actions, failures: [] };
      }
      if (this.#ended) {
        if (!this.#endSent) {
          this.#endSent = true;
          this.#finalEvent();
          continue;
        }
        return { kind: "ended", reason: this.#ended };
      }
      if (this.#stream) {
        const stream = this.#stream;
        this.#stream = undefined;
        return { kind: "stream", stream };
      }
      if (this.#awaitingCaller) return { kind: "await-caller" };
      this.#execute();
    }
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (!webhook.waits || this.#ended) return;
    if (!outcome.ok || outcome.parsed.failures.length > 0) {
      // Vonage cannot run the reply: the call is dropped (an answer) or errors out (an input or notify).
      this.#ended = "failed";
      return;
    }
    if (webhook.eventType === "answer") {
      this.#answeredAt = this.#clock;
      this.#status("answered");
    }
    // No NCCO in the reply to an input or notify: the current NCCO goes on.
    if (outcome.parsed.native === undefined && webhook.eventType !== "answer") return;
    this.#queue = [...outcome.parsed.actions];
    this.#nccoLength = this.#queue.length;
    this.#prompt = undefined;
  }

  caller(input: CallerInput, afterMs: number | undefined): void {
    this.#awaitingCaller = false;
    if (afterMs !== undefined) this.#clock += afterMs;
    const listening = this.#listening;
    switch (input.kind) {
      case "connect":
        return;
      case "hangup":
        this.#ended = "caller_hangup";
        return;
      case "event":
        this.#outbox.push({ eventType: input.type, url: this.#eventUrl, method: this.#eventMethod, fields: { ...this.#common(), ...input.payload }, waits: input.type === "input" || input.type === "notify" });
        this.#awaitingCaller = listening !== undefined;
        return;
      case "tool":
        throw new Error("Vonage has no tool calls (the script validation refuses them)");
    }
    if (!listening) return;
    this.#listening = undefined;
    const types = Array.isArray(listening.action["input"]) ? (listening.action["input"] as string[]) : [];
    switch (input.kind) {
      case "say":
      case "interrupt":
        // Heard over a bargeIn prompt, the words cut it short; otherwise they take their time after it.
        if (!(input.kind === "interrupt" && this.#prompt?.bargeIn)) this.#clock += speechMs(input.text);
        this.#inputResult(listening.action, types.includes("speech") ? { text: input.text, confidence: input.confidence } : undefined, undefined, types);
        return;
      case "press": {
        this.#clock += 300 * input.digits.length;
        const max = typeof listening.action["max_digits"] === "number" ? listening.action["max_digits"] : undefined;
        this.#inputResult(listening.action, undefined, types.includes("dtmf") ? input.digits.slice(0, max) : undefined, types);
        return;
      }
      case "silence":
        this.#clock += input.ms;
        this.#inputResult(listening.action, undefined, undefined, types);
        return;
    }
  }

  streamEnded(end: StreamEnd): void {
    if (end.kind === "caller_hangup") this.#ended = "caller_hangup";
    else if (end.kind === "failed") this.#ended = "failed";
    // Closed by the application: the websocket leg is gone and the NCCO goes on.
    else this.#status("disconnected");
  }

  async close(): Promise<void> {}

  #common(): Record<string, unknown> {
    return {
      from: msisdn(this.#setup.call.from ?? "+15550100001"),
      to: msisdn(this.#setup.call.to ?? "+15550100002"),
      uuid: this.#setup.call.callId,
      conversation_uuid: this.#conversationUuid,
    };
  }

  #answerFields(): Record<string, unknown> {
    return { ...this.#common(), region_url: "https://api-us-3.vonage.com", endpoint_type: "phone" };
  }

  #status(status: string, extra: Record<string, unknown> = {}): void {
    const direction = this.#setup.call.direction ?? "inbound";
    this.#outbox.push({ eventType: status, url: this.#eventUrl, method: this.#eventMethod, fields: { ...this.#common(), status, direction, ...extra, timestamp: "" }, waits: false });
  }

  #finalEvent(): void {
    if (this.#answeredAt === undefined) {
      this.#status(this.#ended === "caller_hangup" ? "cancelled" : "failed");
      return;
    }
    const seconds = Math.max(0, Math.round((this.#clock - this.#answeredAt) / 1000));
    this.#status("completed", {
      start_time: new Date(this.#answeredAt).toISOString(),
      end_time: new Date(this.#clock).toISOString(),
      duration: String(seconds),
      rate: "0.00450000",
      price: (0.0045 * Math.ceil(seconds / 60)).toFixed(8),
      network: "US-FIXED",
      disconnected_by: this.#ended === "caller_hangup" ? "user" : "platform",
    });
  }

  /** The input's result, to its eventUrl (default: the event URL), as Vonage reports it. */
  #inputResult(action: Action, speech: { text: string; confidence: number } | undefined, digits: string | undefined, types: readonly string[]): void {
    const fields: Record<string, unknown> = {};
    if (types.includes("speech")) {
      fields["speech"] = speech
        ? { timeout_reason: "end_on_silence_timeout", results: [{ confidence: speech.confidence.toFixed(2), text: speech.text }] }
        : { timeout_reason: "start_timeout", results: [] };
    }
    if (types.includes("dtmf")) fields["dtmf"] = { digits: digits ?? null, timed_out: digits === undefined };
    const url = typeof action["url"] === "string" ? new URL(action["url"]) : this.#eventUrl;
    const method = action["method"] === "GET" ? "GET" : "POST";
    this.#outbox.push({ eventType: "input", url, method, fields: { ...fields, ...this.#common(), timestamp: "" }, waits: true });
    this.#queue = [];
  }

  /** Runs the NCCO until the call waits for the caller, ends, or needs a webhook. */
  #execute(): void {
    const action = this.#queue.shift();
    if (!action) {
      // The end of the NCCO hangs up (there is no hangup action).
      this.#observed.push({ type: "hangup", path: `[${this.#nccoLength}]`, reason: "end of NCCO" });
      this.#ended = "handler_hangup";
      return;
    }
    const loop = typeof action["loop"] === "number" && action["loop"] > 0 ? action["loop"] : 1;
    switch (action.type) {
      case "speak":
        this.#clock += speechMs(String(action["text"] ?? "")) * loop;
        this.#prompt = { bargeIn: action["barge_in"] === true };
        return;
      case "play":
        this.#clock += 3000 * loop;
        this.#prompt = { bargeIn: action["barge_in"] === true };
        return;
      case "pause":
        this.#clock += typeof action["duration_ms"] === "number" ? action["duration_ms"] : 0;
        return;
      case "record":
        // Vonage records in the background and goes on with the NCCO.
        return;
      case "listen":
        this.#listening = { action };
        this.#awaitingCaller = true;
        return;
      case "redirect": {
        const method = action["method"] === "GET" ? "GET" : "POST";
        const payload = (action["payload"] ?? {}) as Record<string, unknown>;
        this.#outbox.push({ eventType: "notify", url: new URL(String(action["url"])), method, fields: { ...payload }, waits: true });
        return;
      }
      case "stream":
        this.#stream = { url: new URL(String(action["url"])), protocol: "vonage", headers: {}, parameters: action["content_type"] ? { "content-type": String(action["content_type"]) } : {}, path: action.path };
        return;
      case "transfer":
        this.#ended = "transferred";
        return;
      default:
        return;
    }
  }

  #webhook(pending: Pending): CallWebhook {
    const afterMs = this.#clock - this.#lastSentAt;
    this.#lastSentAt = this.#clock;
    const fields = "timestamp" in pending.fields ? { ...pending.fields, timestamp: new Date(this.#clock).toISOString() } : pending.fields;
    return {
      eventType: pending.eventType,
      eventId: this.#setup.newId("evt"),
      waits: pending.waits,
      afterMs,
      request: vonageRequest(pending.method, pending.url, fields),
    };
  }
}
