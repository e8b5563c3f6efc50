/**
 * A Vonage call, played from a caller script (README: Platforms and caller scripts, docs/platforms/vonage.md): the leg is created (started,
 * ringing to the event URL), the answer URL is asked for the NCCO (answered follows), and the NCCO runs
 * action by action. Prompts take platform time; `input` waits for the caller and sends its result to
 * the input's eventUrl; `notify` sends its payload to its eventUrl; a reply NCCO to either replaces
 * the rest of the current one, and no reply lets it go on. A connect to a phone, SIP, app or VBC
 * endpoint (or a conversation) hands the call over; a connect to a websocket becomes a media stream;
 * the end of the NCCO hangs up. Every ending sends `completed` to the event URL, then a `record` event per
 * recording to its eventUrl.
 *
 * Settings (a script's `settings`): `answer_method` GET (default) or POST; `event_url` (default: `event`
 * next to the answer URL, so …/webhooks/answer → …/webhooks/event); `event_method` POST (default) or GET.
 */
import { randomUUID } from "node:crypto";
import * as z from "zod";
import { actionMs, parseSettings, ScriptedCall, type CallerAct } from "../shared/scripted-call.js";
import { speechMs } from "../shared/timing.js";
import type { Action, CallSetup, CallWebhook, DeliveryOutcome, EndReason } from "../types.js";
import { msisdn, vonageRequest } from "./events.js";
import { uuidCallId } from "../../core/ids.js";

const method = z.enum(["GET", "POST"], { error: "expected GET or POST" });
export const vonageSettingsSchema = z.looseObject({
  answer_method: method.default("GET"),
  event_url: z.url({ protocol: /^https?$/, error: "expected an absolute http(s) URL" }).optional(),
  event_method: method.default("POST"),
});

/** Where status events go: settings.event_url, else `event` next to the answer URL (…/webhooks/answer → …/webhooks/event). */
export function vonageEventUrl(settings: Readonly<Record<string, unknown>>, answerUrl: URL): URL {
  const configured = settings["event_url"];
  return new URL(typeof configured === "string" && URL.canParse(configured) ? configured : "event", answerUrl);
}

interface Recording {
  url: URL;
  method: "GET" | "POST";
  startedAt: number;
}

interface BlockingRecord extends Recording {
  endOnKey: string | undefined;
  endOnSilenceMs: number | undefined;
  /** Platform time the recording stops at by its timeOut. */
  deadline: number | undefined;
}

/** Vonage's samples send these as strings ("3"); the reference, as numbers. */
const seconds = (value: unknown): number | undefined => {
  const number = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  return typeof number === "number" && Number.isFinite(number) && number > 0 ? number : undefined;
};

export class VonageCallDriver extends ScriptedCall {
  protected readonly observedLabel = "end of NCCO";
  readonly #eventUrl: URL;
  readonly #eventMethod: "GET" | "POST";
  readonly #conversationUuid = `CON-${randomUUID()}`;
  #answeredAt: number | undefined;
  /** The running NCCO's length, for the path of its end (the end of an NCCO hangs up). */
  #nccoLength = 0;
  #prompt: { bargeIn: boolean } | undefined;
  /** Recordings started by `record` actions: each is reported to its eventUrl when it ends (at the latest with the call). */
  #recordings: Recording[] = [];
  /** A record with an end condition (endOnKey, endOnSilence, timeOut): the NCCO waits until it is met. */
  #blockingRecord: BlockingRecord | undefined;

  constructor(setup: CallSetup) {
    super(setup);
    const settings = parseSettings(vonageSettingsSchema, setup.settings);
    this.#eventUrl = vonageEventUrl(settings, setup.url);
    this.#eventMethod = settings.event_method;
    this.#status("started");
    this.#status("ringing");
    this.#send("answer", setup.url, settings.answer_method, { ...this.#common(), region_url: "https://api-us-3.vonage.com", endpoint_type: "phone" }, true);
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (!webhook.waits || this.ended) return;
    if (!outcome.ok || outcome.parsed.failures.length > 0) {
      // Vonage cannot run the reply: the call is dropped (an answer) or errors out (an input or notify).
      this.ended = "failed";
      return;
    }
    if (webhook.eventType === "answer") {
      this.#answeredAt = this.clock;
      this.#status("answered");
    }
    // No NCCO in the reply to an input or notify: the current NCCO goes on.
    if (outcome.parsed.native === undefined && webhook.eventType !== "answer") return;
    this.queue = [...outcome.parsed.actions];
    this.#nccoLength = this.queue.length;
    this.#prompt = undefined;
  }

  protected callerActs(input: CallerAct): void {
    if (this.#blockingRecord && input.kind !== "event") {
      this.#recordCaller(input, this.#blockingRecord);
      return;
    }
    const listening = this.listening;
    switch (input.kind) {
      case "event":
        this.#send(input.type, this.#eventUrl, this.#eventMethod, { ...this.#common(), ...input.payload }, input.type === "input" || input.type === "notify");
        this.awaitingCaller = listening !== undefined;
        return;
    }
    if (!listening) return;
    this.listening = undefined;
    const types = Array.isArray(listening["input"]) ? (listening["input"] as string[]) : [];
    switch (input.kind) {
      case "say":
      case "interrupt":
        // Heard over a bargeIn prompt, the words cut it short; otherwise they take their time after it.
        if (!(input.kind === "interrupt" && this.#prompt?.bargeIn)) this.clock += speechMs(input.text);
        this.#inputResult(listening, types.includes("speech") ? { text: input.text, confidence: input.confidence } : undefined, undefined, types);
        return;
      case "press": {
        this.clock += 300 * input.digits.length;
        const max = typeof listening["max_digits"] === "number" ? listening["max_digits"] : undefined;
        this.#inputResult(listening, undefined, types.includes("dtmf") ? input.digits.slice(0, max) : undefined, types);
        return;
      }
      case "silence":
        this.clock += input.ms;
        this.#inputResult(listening, undefined, undefined, types);
        return;
    }
  }

  /**
   * The caller's step during a blocking record: it ends on its key, after endOnSilence of quiet, or at its
   * timeOut, whichever comes first; then the record event goes to its eventUrl and the NCCO goes on.
   */
  #recordCaller(input: Exclude<CallerAct, { kind: "event" }>, record: BlockingRecord): void {
    const start = this.clock;
    let endsAt: number | undefined;
    let stepEnd: number;
    if (input.kind === "press") {
      const index = record.endOnKey === undefined ? -1 : input.digits.indexOf(record.endOnKey);
      if (index !== -1) endsAt = start + 300 * (index + 1);
      stepEnd = start + 300 * input.digits.length;
    } else {
      // Speech, then quiet; or quiet alone: endOnSilence counts from the end of the speech.
      const speaking = input.kind === "silence" ? 0 : speechMs(input.text);
      const quietMs = input.kind === "silence" ? input.ms : Number.POSITIVE_INFINITY;
      if (record.endOnSilenceMs !== undefined && record.endOnSilenceMs <= quietMs) endsAt = start + speaking + record.endOnSilenceMs;
      stepEnd = start + speaking + (Number.isFinite(quietMs) ? quietMs : 0);
    }
    // timeOut cuts whatever comes first.
    if (record.deadline !== undefined && record.deadline <= (endsAt ?? stepEnd)) endsAt = Math.max(start, record.deadline);
    if (endsAt === undefined) {
      // No condition met yet: the recording goes on through the caller's next step.
      this.clock = stepEnd;
      this.awaitingCaller = true;
      return;
    }
    this.clock = endsAt;
    this.#blockingRecord = undefined;
    this.#recordEvent(record);
  }

  /** Closed by the application: the websocket leg is gone and the NCCO goes on. */
  protected override agentClosedStream(): void {
    this.#status("disconnected");
  }

  /** A webhook in Vonage's form; `timestamp`, when the fields have one, is the platform time of sending. */
  #send(eventType: string, url: URL, method: "GET" | "POST", fields: Record<string, unknown>, waits: boolean): void {
    this.outbox.push({
      eventType,
      waits,
      build: (clock) => vonageRequest(method, url, "timestamp" in fields ? { ...fields, timestamp: new Date(clock).toISOString() } : fields),
    });
  }

  #common(): Record<string, unknown> {
    return {
      from: msisdn(this.setup.call.from ?? "+15550100001"),
      to: msisdn(this.setup.call.to ?? "+15550100002"),
      uuid: uuidCallId(this.setup.call.callId),
      conversation_uuid: this.#conversationUuid,
    };
  }

  #status(status: string, extra: Record<string, unknown> = {}): void {
    this.#send(
      status,
      this.#eventUrl,
      this.#eventMethod,
      { ...this.#common(), status, direction: this.setup.call.direction ?? "inbound", ...extra, timestamp: "" },
      false,
    );
  }

  protected closingWebhooks(reason: EndReason): void {
    if (this.#answeredAt === undefined) {
      this.#status(reason === "caller_hangup" ? "cancelled" : "failed");
      return;
    }
    const seconds = Math.max(0, Math.round((this.clock - this.#answeredAt) / 1000));
    this.#status("completed", {
      start_time: new Date(this.#answeredAt).toISOString(),
      end_time: new Date(this.clock).toISOString(),
      duration: String(seconds),
      rate: "0.00450000",
      price: (0.0045 * Math.ceil(seconds / 60)).toFixed(8),
      network: "US-FIXED",
      disconnected_by: reason === "caller_hangup" ? "user" : "platform",
    });
    if (this.#blockingRecord) this.#recordings.push(this.#blockingRecord);
    this.#blockingRecord = undefined;
    for (const recording of this.#recordings) this.#recordEvent(recording);
  }

  /** A recording ended now: its event to the record action's eventUrl. */
  #recordEvent(recording: Recording): void {
    const id = randomUUID();
    const recorded = Math.max(1, Math.round((this.clock - recording.startedAt) / 1000));
    this.#send(
      "record",
      recording.url,
      recording.method,
      {
        start_time: new Date(recording.startedAt).toISOString(),
        recording_url: `https://api.nexmo.com/v1/files/${id}`,
        size: 8000 * recorded,
        recording_uuid: id,
        end_time: new Date(this.clock).toISOString(),
        conversation_uuid: this.#conversationUuid,
        timestamp: "",
      },
      false,
    );
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
    this.#send("input", url, action["method"] === "GET" ? "GET" : "POST", { ...fields, ...this.#common(), timestamp: "" }, true);
    this.queue = [];
  }

  protected execute(): void {
    const action = this.queue.shift();
    if (!action) {
      // The end of the NCCO hangs up (there is no hangup action).
      this.observed.push({ type: "hangup", path: `[${this.#nccoLength}]`, reason: "end of NCCO" });
      this.ended = "handler_hangup";
      return;
    }
    // Run in order until an input, notify or synchronous connect's reply replaces the rest of the NCCO.
    this.executed.push(action);
    switch (action.type) {
      case "speak":
      case "play":
        this.#prompt = { bargeIn: action["barge_in"] === true };
        this.playAudio(action, actionMs(action, 0));
        return;
      case "listen":
        this.listening = action;
        this.awaitingCaller = true;
        return;
      case "pause":
        this.clock += actionMs(action, 0);
        return;
      case "redirect":
        this.#send(
          "notify",
          new URL(String(action["url"])),
          action["method"] === "GET" ? "GET" : "POST",
          {
            ...((action["payload"] ?? {}) as Record<string, unknown>),
            uuid: uuidCallId(this.setup.call.callId),
            conversation_uuid: this.#conversationUuid,
            timestamp: "",
          },
          true,
        );
        return;
      case "stream":
        this.stream = {
          url: new URL(String(action["url"])),
          protocol: "vonage",
          headers: {},
          parameters: action["content_type"] ? { "content-type": String(action["content_type"]) } : {},
          path: action.path,
        };
        return;
      case "transfer":
        this.ended = "transferred";
        return;
      case "record": {
        const recording: Recording = {
          url: typeof action["url"] === "string" ? new URL(action["url"]) : this.#eventUrl,
          method: "POST",
          startedAt: this.clock,
        };
        const endOnKey = typeof action["end_on_key"] === "string" && action["end_on_key"] !== "" ? action["end_on_key"] : undefined;
        const endOnSilence = seconds(action["end_on_silence_s"]);
        const timeOut = seconds(action["max_duration_s"]);
        if (endOnKey === undefined && endOnSilence === undefined && timeOut === undefined) {
          // No end condition: Vonage records in the background and goes on with the NCCO.
          this.#recordings.push(recording);
          return;
        }
        // "It terminates when the synchronous condition is met (endOnSilence, timeOut or endOnKey)": the NCCO waits for it.
        this.#blockingRecord = {
          ...recording,
          endOnKey,
          endOnSilenceMs: endOnSilence === undefined ? undefined : endOnSilence * 1000,
          deadline: timeOut === undefined ? undefined : this.clock + timeOut * 1000,
        };
        this.awaitingCaller = true;
        return;
      }
      default:
        return;
    }
  }
}
