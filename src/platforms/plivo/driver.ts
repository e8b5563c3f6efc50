/**
 * A Plivo call, played from a caller script (README: Platforms and caller scripts, docs/platforms/plivo.md): the answer URL is asked for XML,
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
import { actionMs, parseSettings, ScriptedCall, type CallerAct } from "../shared/scripted-call.js";
import { speechMs } from "../shared/timing.js";
import type { Action, CallSetup, CallWebhook, DeliveryOutcome, EndReason } from "../types.js";
import { formValues, plivoRequest, plivoTime } from "./events.js";
import { uuidCallId } from "../../core/ids.js";

const method = z.enum(["GET", "POST"], { error: "expected GET or POST" });
export const plivoSettingsSchema = z.looseObject({
  answer_method: method.default("POST"),
  hangup_url: z.url({ protocol: /^https?$/, error: "expected an absolute http(s) URL" }).optional(),
  hangup_method: method.default("POST"),
});

const hangupCauses: Record<EndReason, { cause: string; source: string }> = {
  caller_hangup: { cause: "NORMAL_CLEARING", source: "Caller" },
  handler_hangup: { cause: "NORMAL_CLEARING", source: "Callee" },
  transferred: { cause: "NORMAL_CLEARING", source: "Callee" },
  rejected: { cause: "CALL_REJECTED", source: "Plivo" },
  failed: { cause: "INVALID_ANSWER_XML", source: "Plivo" },
  timeout: { cause: "NO_ANSWER", source: "Plivo" },
};

const methodOf = (action: Action): "GET" | "POST" => (action["method"] === "GET" ? "GET" : "POST");

export class PlivoCallDriver extends ScriptedCall {
  protected readonly observedLabel = "end of document";
  readonly #hangupUrl: URL;
  readonly #hangupMethod: "GET" | "POST";
  readonly #requestUuid = randomUUID();
  #answeredAt: number | undefined;
  /** The URL whose reply is running: relative URLs in it resolve against it. */
  #documentUrl: URL;

  constructor(setup: CallSetup) {
    super(setup);
    const settings = parseSettings(plivoSettingsSchema, setup.settings);
    this.#hangupUrl = settings.hangup_url ? new URL(settings.hangup_url) : setup.url;
    this.#hangupMethod = settings.hangup_method;
    this.#documentUrl = setup.url;
    this.#send(
      "answer",
      setup.url,
      settings.answer_method,
      { ...this.#base("ringing"), Event: "StartApp", CallerName: this.#from(), BillRate: "0.0085" },
      true,
    );
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (!webhook.waits || this.ended) return;
    if (!outcome.ok || outcome.parsed.failures.length > 0) {
      this.ended = "failed";
      return;
    }
    this.#answeredAt ??= this.clock;
    this.#documentUrl = webhook.request.url;
    this.queue = [...outcome.parsed.actions];
  }

  protected callerActs(input: CallerAct): void {
    switch (input.kind) {
      case "event":
        this.#send(input.type, this.#documentUrl, "POST", { ...this.#base("in-progress"), ...formValues(input.payload) }, input.type !== "hangup");
        this.awaitingCaller = this.listening !== undefined;
        return;
    }
    const listen = this.listening;
    if (!listen) return;
    this.listening = undefined;
    const accepts = Array.isArray(listen["input"]) ? (listen["input"] as string[]) : [];
    const isGetInput = /GetInput\[\d+\]$/.test(listen.path);
    switch (input.kind) {
      case "say":
      case "interrupt":
        this.clock += input.kind === "interrupt" ? 0 : speechMs(input.text);
        if (accepts.includes("speech"))
          this.#result(listen, {
            InputType: "speech",
            Digits: "",
            Speech: input.text,
            SpeechConfidenceScore: input.confidence.toFixed(2),
            BilledAmount: "0.00500",
          });
        return;
      case "press": {
        this.clock += 300 * input.digits.length;
        if (!accepts.includes("dtmf")) return;
        const max = typeof listen["max_digits"] === "number" ? listen["max_digits"] : undefined;
        const digits = input.digits.slice(0, max);
        this.#result(
          listen,
          isGetInput ? { InputType: "dtmf", Digits: digits, Speech: "", SpeechConfidenceScore: "", BilledAmount: "0.00000" } : { Digits: digits },
        );
        return;
      }
      case "silence":
        // Nothing heard: Plivo moves on to the next element without a request.
        this.clock += input.ms;
        return;
    }
  }

  #send(eventType: string, url: URL, method: "GET" | "POST", params: Record<string, string>, waits: boolean): void {
    this.outbox.push({ eventType, waits, build: () => plivoRequest(method, url, params) });
  }

  #from(): string {
    return (this.setup.call.from ?? "+15550100001").replace(/^\+/, "");
  }

  #base(status: string): Record<string, string> {
    return {
      CallUUID: uuidCallId(this.setup.call.callId),
      From: this.#from(),
      To: (this.setup.call.to ?? "+15550100002").replace(/^\+/, ""),
      CallStatus: status,
      Direction: this.setup.call.direction ?? "inbound",
      RequestUUID: this.#requestUuid,
      ALegUUID: uuidCallId(this.setup.call.callId),
      ALegRequestUUID: this.#requestUuid,
    };
  }

  /** A listen's result to its action URL; with redirect (the default) its reply takes over the call. */
  #result(listen: Action, result: Record<string, string>): void {
    if (typeof listen["url"] !== "string") return; // no action URL: the input is dropped and the document goes on
    const eventType = /GetInput\[\d+\]$/.test(listen.path) ? "get_input" : "get_digits";
    const redirect = listen["redirect"] !== false;
    this.#send(eventType, new URL(listen["url"], this.#documentUrl), methodOf(listen), { ...this.#base("in-progress"), ...result }, redirect);
    if (redirect) this.queue = [];
  }

  protected closingWebhooks(reason: EndReason): void {
    const answered = this.#answeredAt;
    const seconds = answered === undefined ? 0 : Math.max(0, Math.round((this.clock - answered) / 1000));
    const { cause, source } = hangupCauses[reason];
    this.#send(
      "hangup",
      this.#hangupUrl,
      this.#hangupMethod,
      {
        ...this.#base("completed"),
        Event: "Hangup",
        HangupCause: cause,
        HangupSource: source,
        Duration: String(seconds),
        BillDuration: String(Math.ceil(seconds / 60) * 60),
        TotalCost: (0.0085 * Math.ceil(seconds / 60)).toFixed(5),
        StartTime: plivoTime(this.setup.start.getTime()),
        AnswerTime: answered === undefined ? "" : plivoTime(answered),
        EndTime: plivoTime(this.clock),
      },
      false,
    );
  }

  protected execute(): void {
    const action = this.queue.shift();
    if (!action) {
      this.observed.push({ type: "hangup", path: "Response", reason: "end of document" });
      this.ended = "handler_hangup";
      return;
    }
    // In document order, prompts nested in a GetInput first: a Speak after the GetInput runs only when it heard nothing.
    this.executed.push(action);
    // Speak, Play and Wait (1 s by default) take platform time.
    if (action.type === "speak" || action.type === "play") {
      this.playAudio(action, actionMs(action, 1000));
      return;
    }
    this.clock += actionMs(action, 1000);
    switch (action.type) {
      case "listen":
        this.listening = action;
        this.awaitingCaller = true;
        return;
      case "record":
        this.clock += 1000 * (typeof action["max_duration_s"] === "number" ? Math.min(action["max_duration_s"], 10) : 5);
        if (typeof action["url"] === "string") {
          const id = randomUUID();
          this.#send(
            "record",
            new URL(action["url"], this.#documentUrl),
            "POST",
            {
              ...this.#base("in-progress"),
              RecordUrl: `https://media.plivo.com/v1/Account/MA000/Recording/${id}.mp3`,
              RecordingID: id,
              RecordingDuration: "5",
              RecordingDurationMs: "5000",
            },
            true,
          );
          this.queue = [];
        }
        return;
      case "redirect":
        this.#send("redirect", new URL(String(action["url"]), this.#documentUrl), methodOf(action), { ...this.#base("in-progress"), Event: "Redirect" }, true);
        this.queue = [];
        return;
      case "stream":
        this.stream = {
          url: new URL(String(action["url"])),
          protocol: "plivo",
          headers: {},
          parameters: Object.fromEntries(
            ["bidirectional", "audio_track", "content_type"].filter((field) => action[field] !== undefined).map((field) => [field, String(action[field])]),
          ),
          path: action.path,
        };
        return;
      case "transfer":
        this.ended = "transferred";
        return;
      case "hangup":
        // <Hangup schedule="N"> hangs up later and lets the document go on.
        if (typeof action["schedule"] !== "number" || action["schedule"] === 0) this.ended = "handler_hangup";
        return;
      default:
        return;
    }
  }
}
