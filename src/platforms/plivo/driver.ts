/**
 * A Plivo call, played from a caller script (SPEC §7, PROVIDERS §6): the answer URL is asked for XML,
 * which runs element by element. Speak, Play and Wait take platform time; GetInput / GetDigits wait for
 * the caller and send the result to their action URL (with redirect, the default, the reply XML takes
 * over; with redirect="false" the result is only reported and the document goes on); nothing heard goes
 * on to the next element without a request, as Plivo does. <Redirect> fetches the next document; Dial,
 * Conference and MultiPartyCall hand the call over; <Hangup> or the end of the document hangs up;
 * <Stream> becomes a media stream. Every ending sends the hangup request to the hangup URL.
 *
 * Settings (a script's `settings`): `answer_method` POST (default) or GET; `hangup_url` (default: the answer
 * URL, as a Plivo application without one); `hangup_method` POST (default) or GET.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import { InputError } from "../../errors.js";
import { speechMs } from "../timing.js";
import type { Action, CallDriver, CallerInput, CallSetup, CallWebhook, DeliveryOutcome, DriverMove, EndReason, MediaStreamRequest, StreamEnd } from "../types.js";
import { formValues, plivoRequest, plivoTime } from "./events.js";

const method = z.enum(["GET", "POST"], { error: "expected GET or POST" });
export const plivoSettingsSchema = z.looseObject({
  answer_method: method.default("POST"),
  hangup_url: z.url({ protocol: /^https?$/, error: "expected an absolute http(s) URL" }).optional(),
  hangup_method: method.default("POST"),
});

interface Pending {
  eventType: string;
  url: URL;
  method: "GET" | "POST";
  params: Record<string, string>;
  waits: boolean;
}

const hangupCauses: Record<EndReason, { cause: string; source: string }> = {
  caller_hangup: { cause: "NORMAL_CLEARING", source: "Caller" },
  handler_hangup: { cause: "NORMAL_CLEARING", source: "Callee" },
  transferred: { cause: "NORMAL_CLEARING", source: "Callee" },
  rejected: { cause: "CALL_REJECTED", source: "Plivo" },
  failed: { cause: "INVALID_ANSWER_XML", source: "Plivo" },
  timeout: { cause: "NO_ANSWER", source: "Plivo" },
};

export class PlivoCallDriver implements CallDriver {
  readonly #setup: CallSetup;
  readonly #hangupUrl: URL;
  readonly #hangupMethod: "GET" | "POST";
  readonly #requestUuid = randomUUID();
  #clock: number;
  #lastSentAt: number;
  #answeredAt: number | undefined;
  #queue: Action[] = [];
  #outbox: Pending[] = [];
  /** The URL whose reply is running: relative URLs in it resolve against it. */
  #documentUrl: URL;
  #ended: EndReason | undefined;
  #endSent = false;
  #listening: Action | undefined;
  #awaitingCaller = false;
  #stream: MediaStreamRequest | undefined;
  #observed: Action[] = [];

  constructor(setup: CallSetup) {
    const settings = plivoSettingsSchema.safeParse(setup.settings);
    if (!settings.success) {
      const issue = settings.error.issues[0]!;
      throw new InputError(`settings.${issue.path.join(".")}: ${issue.message}`);
    }
    this.#setup = setup;
    this.#hangupUrl = settings.data.hangup_url ? new URL(settings.data.hangup_url) : setup.url;
    this.#hangupMethod = settings.data.hangup_method;
    this.#documentUrl = setup.url;
    this.#clock = setup.start.getTime();
    this.#lastSentAt = this.#clock;
    this.#outbox.push({
      eventType: "answer",
      url: setup.url,
      method: settings.data.answer_method,
      params: { ...this.#base("ringing"), Event: "StartApp", CallerName: this.#from(), BillRate: "0.0085" },
      waits: true,
    });
  }

  async next(): Promise<DriverMove> {
    for (;;) {
      const pending = this.#outbox.shift();
      if (pending) return { kind: "send", webhook: this.#webhook(pending) };
      if (this.#observed.length > 0) {
        const actions = this.#observed;
        this.#observed = [];
        return { kind: "observed", label: "end of document", actions, failures: [] };
      }
      if (this.#ended) {
        if (!this.#endSent) {
          this.#endSent = true;
          this.#hangupRequest(this.#ended);
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
      this.#ended = "failed";
      return;
    }
    this.#answeredAt ??= this.#clock;
    this.#documentUrl = webhook.request.url;
    this.#queue = [...outcome.parsed.actions];
  }

  caller(input: CallerInput, afterMs: number | undefined): void {
    this.#awaitingCaller = false;
    if (afterMs !== undefined) this.#clock += afterMs;
    switch (input.kind) {
      case "connect":
        return;
      case "hangup":
        this.#ended = "caller_hangup";
        return;
      case "event":
        this.#outbox.push({ eventType: input.type, url: this.#documentUrl, method: "POST", params: { ...this.#base("in-progress"), ...formValues(input.payload) }, waits: input.type !== "hangup" });
        this.#awaitingCaller = this.#listening !== undefined;
        return;
      case "tool":
        throw new Error("Plivo has no tool calls (the script validation refuses them)");
    }
    const listen = this.#listening;
    if (!listen) return;
    this.#listening = undefined;
    const accepts = Array.isArray(listen["input"]) ? (listen["input"] as string[]) : [];
    const isGetInput = /GetInput\[\d+\]$/.test(listen.path);
    switch (input.kind) {
      case "say":
      case "interrupt":
        this.#clock += input.kind === "interrupt" ? 0 : speechMs(input.text);
        if (accepts.includes("speech")) this.#result(listen, { InputType: "speech", Digits: "", Speech: input.text, SpeechConfidenceScore: input.confidence.toFixed(2), BilledAmount: "0.00500" });
        return;
      case "press": {
        this.#clock += 300 * input.digits.length;
        if (!accepts.includes("dtmf")) return;
        const max = typeof listen["max_digits"] === "number" ? listen["max_digits"] : undefined;
        const digits = input.digits.slice(0, max);
        this.#result(listen, isGetInput ? { InputType: "dtmf", Digits: digits, Speech: "", SpeechConfidenceScore: "", BilledAmount: "0.00000" } : { Digits: digits });
        return;
      }
      case "silence":
        // Nothing heard: Plivo moves on to the next element without a request.
        this.#clock += input.ms;
        return;
    }
  }

  streamEnded(end: StreamEnd): void {
    if (end.kind === "caller_hangup") this.#ended = "caller_hangup";
    else if (end.kind === "failed") this.#ended = "failed";
  }

  async close(): Promise<void> {}

  #from(): string {
    return (this.#setup.call.from ?? "+15550100001").replace(/^\+/, "");
  }

  #base(status: string): Record<string, string> {
    return {
      CallUUID: this.#setup.call.callId,
      From: this.#from(),
      To: (this.#setup.call.to ?? "+15550100002").replace(/^\+/, ""),
      CallStatus: status,
      Direction: this.#setup.call.direction ?? "inbound",
      RequestUUID: this.#requestUuid,
      ALegUUID: this.#setup.call.callId,
      ALegRequestUUID: this.#requestUuid,
    };
  }

  /** A listen's result to its action URL; with redirect (the default) its reply takes over the call. */
  #result(listen: Action, result: Record<string, string>): void {
    if (typeof listen["url"] !== "string") return; // no action URL: the input is dropped and the document goes on
    const eventType = /GetInput\[\d+\]$/.test(listen.path) ? "get_input" : "get_digits";
    const redirect = listen["redirect"] !== false;
    this.#outbox.push({ eventType, url: new URL(listen["url"], this.#documentUrl), method: listen["method"] === "GET" ? "GET" : "POST", params: { ...this.#base("in-progress"), ...result }, waits: redirect });
    if (redirect) this.#queue = [];
  }

  #hangupRequest(reason: EndReason): void {
    const answered = this.#answeredAt;
    const seconds = answered === undefined ? 0 : Math.max(0, Math.round((this.#clock - answered) / 1000));
    const { cause, source } = hangupCauses[reason];
    this.#outbox.push({
      eventType: "hangup",
      url: this.#hangupUrl,
      method: this.#hangupMethod,
      params: {
        ...this.#base("completed"),
        Event: "Hangup",
        HangupCause: cause,
        HangupSource: source,
        Duration: String(seconds),
        BillDuration: String(Math.ceil(seconds / 60) * 60),
        TotalCost: (0.0085 * Math.ceil(seconds / 60)).toFixed(5),
        StartTime: plivoTime(this.#setup.start.getTime()),
        AnswerTime: answered === undefined ? "" : plivoTime(answered),
        EndTime: plivoTime(this.#clock),
      },
      waits: false,
    });
  }

  /** Runs the document until the call waits for the caller, ends, or needs a request. */
  #execute(): void {
    const action = this.#queue.shift();
    if (!action) {
      this.#observed.push({ type: "hangup", path: "Response", reason: "end of document" });
      this.#ended = "handler_hangup";
      return;
    }
    const loop = typeof action["loop"] === "number" && action["loop"] > 0 ? action["loop"] : 1;
    switch (action.type) {
      case "speak":
        this.#clock += speechMs(String(action["text"] ?? "")) * loop;
        return;
      case "play":
        this.#clock += 3000 * loop;
        return;
      case "pause":
        this.#clock += typeof action["duration_ms"] === "number" ? action["duration_ms"] : 1000;
        return;
      case "listen":
        this.#listening = action;
        this.#awaitingCaller = true;
        return;
      case "record":
        this.#clock += 1000 * (typeof action["max_duration_s"] === "number" ? Math.min(action["max_duration_s"], 10) : 5);
        if (typeof action["url"] === "string") {
          const id = randomUUID();
          this.#outbox.push({ eventType: "record", url: new URL(action["url"], this.#documentUrl), method: "POST", params: { ...this.#base("in-progress"), RecordUrl: `https://media.plivo.com/v1/Account/MA000/Recording/${id}.mp3`, RecordingID: id, RecordingDuration: "5", RecordingDurationMs: "5000" }, waits: true });
          this.#queue = [];
        }
        return;
      case "redirect":
        this.#outbox.push({ eventType: "redirect", url: new URL(String(action["url"]), this.#documentUrl), method: action["method"] === "GET" ? "GET" : "POST", params: { ...this.#base("in-progress"), Event: "Redirect" }, waits: true });
        this.#queue = [];
        return;
      case "stream":
        this.#stream = { url: new URL(String(action["url"])), protocol: "plivo", headers: {}, parameters: Object.fromEntries(["bidirectional", "audio_track", "content_type"].filter((field) => action[field] !== undefined).map((field) => [field, String(action[field])])), path: action.path };
        return;
      case "transfer":
        this.#ended = "transferred";
        return;
      case "hangup":
        // <Hangup schedule="N"> hangs up later and lets the document go on.
        if (typeof action["schedule"] !== "number" || action["schedule"] === 0) this.#ended = "handler_hangup";
        return;
      default:
        return;
    }
  }

  #webhook(pending: Pending): CallWebhook {
    const afterMs = this.#clock - this.#lastSentAt;
    this.#lastSentAt = this.#clock;
    return { eventType: pending.eventType, eventId: this.#setup.newId("evt"), waits: pending.waits, afterMs, request: plivoRequest(pending.method, pending.url, pending.params) };
  }
}
