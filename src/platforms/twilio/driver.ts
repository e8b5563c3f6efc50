/**
 * Twilio as a reactive call (README: Platforms and caller scripts, docs/platforms/twilio.md): the incoming-call webhook, then the TwiML of each
 * reply executed verb by verb in platform time. <Gather> waits for the caller and posts to its action
 * (default: the current document's URL); <Record> records the caller's next step; <Redirect>, <Dial action>
 * and <Connect action> fetch the next document; <Hangup>, <Reject> and the end of the document end the
 * call. Like Twilio's HTTP client it keeps cookies per call and follows 301/302/303/307 redirects; with
 * `statusCallback` set it also sends the call-progress callbacks.
 */
import { randomUUID } from "node:crypto";
import { speechMs } from "../shared/timing.js";
import type { Action, CallerInput, CallSetup, CallWebhook, DeliveryOutcome, EndReason, StreamEnd } from "../types.js";
import { CallDriverBase } from "../shared/call-driver-base.js";
import { baseParams, callSidFor, formRequest, rfc2822, sid, twilioHeaders, type Params } from "./params.js";
import { twilioSettings, type TwilioSettings } from "./settings.js";
import {
  dialedCallSeconds,
  has,
  maxRedirects,
  seconds,
  setCookies,
  speechEndMs,
  text,
  twilioRedirects,
  unansweredDialMs,
  recordingCallbacks,
  type Listening,
  type Pending,
  type TwilioEventType,
} from "./call-rules.js";

export type { TwilioEventType } from "./call-rules.js";

export class TwilioCallDriver extends CallDriverBase<Pending> {
  readonly reportsExecution = true;
  readonly #callSid: string;
  readonly #accountSid: string;
  readonly #settings: TwilioSettings;
  readonly #statusCallback: URL | undefined;
  readonly #start: number;
  /** The URL of the document being executed (relative URLs in it resolve against it). */
  #documentUrl: URL;
  #queue: Action[] = [];
  #pendingOf = new WeakMap<CallWebhook, Pending>();
  #listening: Listening | undefined;
  /** Whether the last prompt played (a Gather's nested Say/Play) let the caller barge in. */
  #promptBargeIn = false;
  #afterStream: Action | undefined;
  #answered = false;
  #firstReplied = false;
  #statusSequence = 0;
  #cookies = new Map<string, string>();
  #dials = 0;
  #recordings = 0;
  #rejectReason: string | undefined;

  constructor(setup: CallSetup) {
    super(setup);
    this.#callSid = callSidFor(setup.call.callId);
    this.#settings = twilioSettings(setup.settings);
    this.#accountSid = this.#settings.accountSid ?? sid("AC", "vwh simulated account");
    const callback = this.#settings.statusCallback;
    this.#statusCallback = callback === undefined || !URL.canParse(callback, setup.url.href) ? undefined : new URL(callback, setup.url);
    this.#start = setup.start.getTime();
    this.#documentUrl = setup.url;
    this.#status("initiated");
    this.#status("ringing");
    // The number's voice URL is fetched with the method set for it in Twilio (settings.voice_method).
    this.outbox.push({ eventType: "voice", url: setup.url, method: this.#settings.voiceMethod, params: {} });
  }

  protected closingWebhooks(reason: EndReason): void {
    this.#status(this.#finalStatus(reason));
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (outcome.ok) this.#keepCookies(outcome.reply.headers["set-cookie"]);
    const pending = this.#pendingOf.get(webhook);
    if (!webhook.waits || this.ended || !pending) return;
    const location = outcome.ok ? outcome.reply.headers["location"] : undefined;
    if (outcome.ok && location && twilioRedirects.statuses.includes(outcome.reply.status)) {
      if ((pending.redirects ?? 0) >= maxRedirects || !URL.canParse(location, webhook.request.url.href)) {
        this.ended = "failed";
        return;
      }
      // 307: the same request again at the new address; 301/302/303: a GET of it (re-signed there by the engine).
      const method = twilioRedirects.method(outcome.reply.status, pending.method);
      const asBrowserGet = pending.asBrowserGet === true || (method === "GET" && pending.method === "POST");
      this.outbox.pushFront({
        ...pending,
        url: new URL(location, webhook.request.url),
        method,
        asBrowserGet,
        eventId: webhook.eventId,
        redirects: (pending.redirects ?? 0) + 1,
      });
      return;
    }
    if (!outcome.ok || outcome.parsed.failures.length > 0) {
      // "An application error has occurred": Twilio cannot use the reply and drops the call.
      this.ended = "failed";
      return;
    }
    this.#documentUrl = pending.url;
    this.#queue = [...outcome.parsed.actions];
    this.#promptBargeIn = false;
    if (!this.#firstReplied) {
      this.#firstReplied = true;
      if (this.#queue[0]?.type !== "reject") {
        this.#answered = true;
        this.#status("in-progress");
      }
    }
  }

  protected callerStep(input: CallerInput): void {
    if (this.cutInto && !this.#actOverPrompt(input)) return;
    const listening = this.#listening;
    this.#listening = undefined;
    switch (input.kind) {
      case "connect":
        return;
      case "hangup":
        if (listening?.kind === "record") this.#recorded(listening.action, 0, "hangup", false);
        this.ended = "caller_hangup";
        return;
      case "say":
      case "interrupt": {
        const heard = input.kind === "say" || (listening?.kind === "gather" && listening.heardOverPrompt);
        this.clock += speechMs(input.text);
        if (listening?.kind === "gather" && heard && has(listening.action["input"], "speech")) {
          this.clock += speechEndMs;
          this.#gathered(listening.action, { SpeechResult: input.text, Confidence: String(input.confidence) });
        } else if (listening?.kind === "record" && input.kind === "say") {
          const timeout = seconds(listening.action["timeout_s"], 5);
          this.clock += timeout * 1000;
          this.#recorded(listening.action, Math.ceil(speechMs(input.text) / 1000), undefined, true, input.text);
        } else if (listening?.kind === "gather" && input.kind === "interrupt") {
          // Words over a prompt nobody listens to are lost: the Gather is still waiting.
          this.#listening = listening;
        } else if (listening) this.#timedOut(listening);
        return;
      }
      case "press": {
        this.clock += 300 * input.digits.length;
        if (listening?.kind === "gather" && has(listening.action["input"], "dtmf")) {
          const finishOnKey = typeof listening.action["finish_on_key"] === "string" ? listening.action["finish_on_key"] : "#";
          const numDigits = typeof listening.action["num_digits"] === "number" ? listening.action["num_digits"] : undefined;
          // Keys count until the finish key or numDigits, whichever comes first; `w` is a pause, not a key.
          let digits = "";
          let finishedOnKey = "";
          for (const key of input.digits.replaceAll("w", "")) {
            if (finishOnKey !== "" && key === finishOnKey) {
              finishedOnKey = key;
              break;
            }
            digits += key;
            if (numDigits !== undefined && digits.length >= numDigits) break;
          }
          // Neither happened: Twilio waits `timeout` seconds for more keys, then posts what it has.
          if (!finishedOnKey && (numDigits === undefined || digits.length < numDigits)) this.clock += seconds(listening.action["timeout_s"], 5) * 1000;
          this.#gathered(listening.action, { Digits: digits, FinishedOnKey: finishedOnKey });
        } else if (listening?.kind === "record") {
          this.#recorded(listening.action, 1, input.digits[0] ?? "", true);
        } else if (listening) this.#timedOut(listening);
        return;
      }
      case "silence":
        this.clock += input.ms;
        if (listening) this.#timedOut(listening);
        return;
      case "event": {
        const eventType = input.type as TwilioEventType;
        const params = Object.fromEntries(
          Object.entries(input.payload).map(([name, value]) => [name, typeof value === "string" ? value : JSON.stringify(value)]),
        );
        if (eventType === "status") this.#status(params["CallStatus"] ?? "in-progress", params);
        else this.outbox.push({ eventType, url: this.#documentUrl, method: "POST", params });
        if (listening) this.#listening = listening;
        return;
      }
      case "tool":
        throw new Error("the twilio platform has no tool calls (the script validation refuses them)");
    }
  }

  /**
   * The caller acts during a prompt (after_ms): a hangup ends the call mid-prompt; keys or words over a
   * prompt nested in a <Gather bargeIn> stop it and start the Gather, which takes them; over any other
   * prompt they are lost and it plays on (Twilio hears keys and speech only in a Gather). False: the step
   * is used up.
   */
  #actOverPrompt(input: CallerInput): boolean {
    const { action, remainingMs } = this.cutInto!;
    if (input.kind === "hangup" || input.kind === "connect" || input.kind === "event") return true;
    if (action["barge_in"] === true && this.#listening) return true;
    this.clock += remainingMs;
    const where = "barge_in" in action ? 'a <Gather bargeIn="false">\'s prompt' : "a prompt outside a <Gather>";
    this.note(`${input.kind} during ${where} (${action.path}): Twilio does not take it there, and the prompt played on`);
    return false;
  }

  /** A Gather listens while its nested prompts play (bargeIn): cut into, the rest of its prompts are skipped and it takes the caller's act. */
  protected override promptCut(prompt: Action): void {
    if (prompt["barge_in"] !== true) return;
    while (this.#queue.length > 0 && this.#queue[0]!.type !== "listen") this.#queue.shift();
    const gather = this.#queue.shift();
    if (!gather) return;
    this.executed.push(gather);
    this.#listening = { kind: "gather", action: gather, heardOverPrompt: true };
  }

  override streamEnded(end: StreamEnd): void {
    const connect = this.#afterStream;
    this.#afterStream = undefined;
    if (end.kind === "caller_hangup") {
      this.ended = "caller_hangup";
      return;
    }
    const action = text(connect?.["connect_action"]);
    if (action !== undefined) {
      // <Connect action>: Twilio fetches the next document when the stream closes.
      this.#queue = [];
      const handoff = end.kind === "closed_by_agent" && end.handoffData !== undefined ? { HandoffData: end.handoffData } : {};
      this.outbox.push({
        eventType: "connect",
        url: new URL(action, this.#documentUrl),
        method: connect?.["connect_method"] === "GET" ? "GET" : "POST",
        params: handoff,
      });
    } else if (end.kind === "failed") this.ended = "failed";
  }

  /** Runs verbs until the call waits for the caller, ends, or needs a webhook. */
  protected override execute(): void {
    if (this.#listening) {
      // A Gather or Record waits for the caller.
      this.awaitingCaller = true;
      return;
    }
    const action = this.#queue.shift();
    if (!action) {
      // The end of the document: Twilio hangs up.
      this.ended = "handler_hangup";
      return;
    }
    // Verbs run in document order; what control leaves before is never executed (TwiML's execution rules).
    this.executed.push(action);
    const loop = Math.min(Math.max(seconds(action["loop"], 1), 1), 10);
    switch (action.type) {
      case "speak":
        this.#promptBargeIn = action["barge_in"] === true;
        this.playAudio(action, speechMs(String(action["text"] ?? "")) * loop);
        return;
      case "play":
        this.#promptBargeIn = action["barge_in"] === true;
        this.playAudio(action, 3000 * loop);
        return;
      case "pause":
        this.clock += seconds(action["duration_ms"], 1000);
        return;
      case "listen":
        this.#listening = { kind: "gather", action, heardOverPrompt: this.#promptBargeIn };
        return;
      case "record":
        this.#listening = { kind: "record", action };
        return;
      case "transfer": {
        // How this <Dial> ends: settings.dial_outcomes, in order (default completed).
        const outcome = this.#settings.dialOutcomes[this.#dials] ?? "completed";
        this.#dials++;
        const connected = outcome === "completed" || outcome === "answered";
        const dialAction = text(action["action"]);
        if (dialAction === undefined) {
          // Without action, Twilio goes on with the next verb when nobody answered (a hunt: <Dial>a</Dial><Dial>b</Dial>).
          if (connected) this.ended = "transferred";
          else this.clock += unansweredDialMs(outcome, seconds(action["timeout_s"], 30));
          return;
        }
        // The dialled party answers and talks (or never answers); when that leg ends Twilio fetches Dial@action.
        this.clock += connected ? dialedCallSeconds * 1000 : unansweredDialMs(outcome, seconds(action["timeout_s"], 30));
        this.#leaveFor("dial", dialAction, action["method"], {
          DialCallStatus: outcome,
          DialCallSid: sid("CA", `${this.#callSid}:dial:${this.#dials}`),
          ...(connected && { DialCallDuration: String(dialedCallSeconds) }),
          DialBridged: connected ? "true" : "false",
        });
        return;
      }
      case "stream": {
        const url = text(action["url"]);
        if (url === undefined || !URL.canParse(url)) {
          this.ended = "failed";
          return;
        }
        const parameters = (action["parameters"] ?? {}) as Record<string, string>;
        // The start (or setup) message carries the call's sids; Twilio signs the upgrade (X-Twilio-Signature over the wss URL).
        const protocol = String(action["protocol"] ?? "twilio-media");
        const callFields: Record<string, string> = { accountSid: this.#accountSid, callSid: this.#callSid };
        if (protocol === "twilio-relay") {
          // ConversationRelay's setup carries the call's parties too.
          const base = baseParams({
            call: this.setup.call,
            accountSid: this.#accountSid,
            callSid: this.#callSid,
            callStatus: "in-progress",
            callToken: this.#settings.callToken,
            from: this.#settings.from,
            to: this.#settings.to,
          });
          Object.assign(callFields, { from: base["From"] ?? "", to: base["To"] ?? "", direction: base["Direction"] ?? "inbound" });
        }
        const settings = (action["settings"] ?? undefined) as Record<string, string> | undefined;
        this.stream = {
          url: new URL(url),
          protocol,
          headers: {},
          parameters: { ...parameters, ...callFields, ...(typeof action["track"] === "string" && { track: action["track"] }) },
          ...(settings && { settings }),
          path: action.path,
          signUpgrade: true,
        };
        this.#afterStream = action;
        return;
      }
      case "redirect":
        this.#leaveFor("redirect", text(action["url"]) ?? this.#documentUrl.href, action["method"], {});
        return;
      case "hangup":
        this.ended = "handler_hangup";
        return;
      case "reject":
        this.#rejectReason = String(action["reason"] ?? "rejected");
        this.ended = "rejected";
        return;
      default:
        return;
    }
  }

  /** The document is left: the next one comes from this URL. */
  #leaveFor(eventType: TwilioEventType, target: string, method: unknown, params: Params): void {
    this.#queue = [];
    this.outbox.push({ eventType, url: new URL(target, this.#documentUrl), method: method === "GET" ? "GET" : "POST", params });
  }

  #gathered(gather: Action, params: Params): void {
    this.#leaveFor("gather", text(gather["action"]) ?? this.#documentUrl.href, gather["method"], { msg: "Gather End", ...params });
  }

  #recorded(record: Action, durationSeconds: number, digits: string | undefined, waits: boolean, said?: string): void {
    this.#recordings++;
    const recordingSid = sid("RE", `${this.#callSid}:${this.#recordings}`);
    const params: Params = {
      RecordingUrl: `https://api.twilio.com/2010-04-01/Accounts/${this.#accountSid}/Recordings/${recordingSid}`,
      RecordingSid: recordingSid,
      RecordingDuration: String(durationSeconds),
      ...(digits !== undefined && { Digits: digits }),
    };
    if (waits) this.#leaveFor("record", text(record["action"]) ?? this.#documentUrl.href, record["method"], params);
    else
      this.outbox.push({
        eventType: "record",
        url: new URL(text(record["action"]) ?? this.#documentUrl.href, this.#documentUrl),
        method: record["method"] === "GET" ? "GET" : "POST",
        params,
        ignoresReply: true,
      });
    this.#recordingCallbacks(record, { recordingSid, recordingUrl: params["RecordingUrl"]!, durationSeconds, said });
  }

  /** After the recording: its status callback (recordingStatusCallback) and its transcription (transcribeCallback), with Twilio's parameters. */
  #recordingCallbacks(record: Action, recording: Parameters<typeof recordingCallbacks>[1]): void {
    for (const request of recordingCallbacks(record, recording, { documentUrl: this.#documentUrl, clock: this.clock, accountSid: this.#accountSid }))
      this.outbox.push(request);
  }

  /** No input: Gather falls through to the next verb (or posts an empty result when asked to); so does Record. */
  #timedOut(listening: Listening): void {
    if (listening.kind === "gather" && listening.action["action_on_empty_result"] === true) this.#gathered(listening.action, { Digits: "", FinishedOnKey: "" });
  }

  #finalStatus(reason: EndReason): string {
    // An unanswered call rejected as busy reports busy; as rejected, no-answer (not verified against the live service).
    if (reason === "rejected" && !this.#answered) return this.#rejectReason === "busy" ? "busy" : "no-answer";
    if (reason === "failed" && !this.#answered) return "failed";
    return "completed";
  }

  /** A call-progress callback (initiated, ringing, in-progress = answered, completed …), when asked for. */
  #status(callStatus: string, extra: Params = {}): void {
    if (!this.#statusCallback) return;
    const terminal = !["initiated", "ringing", "in-progress"].includes(callStatus);
    const durationSeconds = Math.round((this.clock - this.#start) / 1000);
    this.outbox.push({
      eventType: "status",
      url: this.#statusCallback,
      method: "POST",
      params: {
        CallStatus: callStatus,
        CallbackSource: "call-progress-events",
        SequenceNumber: String(this.#statusSequence++),
        Timestamp: rfc2822(new Date(this.clock)),
        ...(terminal && {
          CallDuration: String(durationSeconds),
          Duration: String(Math.max(1, Math.ceil(durationSeconds / 60))),
          SipResponseCode: callStatus === "busy" ? "486" : "200",
        }),
        ...extra,
      },
    });
  }

  #keepCookies(header: string | undefined): void {
    if (!header) return;
    for (const cookie of setCookies(header)) {
      const expired = (cookie.maxAge !== undefined && cookie.maxAge <= 0) || (cookie.expires instanceof Date && cookie.expires.getTime() <= this.clock);
      if (expired) this.#cookies.delete(cookie.name);
      else this.#cookies.set(cookie.name, cookie.value);
    }
  }

  protected webhook(pending: Pending, _at: number, afterMs: number): CallWebhook {
    const eventId = pending.eventId ?? randomUUID();
    const callStatus = pending.eventType === "voice" ? "ringing" : "in-progress";
    const base = baseParams({
      call: this.setup.call,
      accountSid: this.#accountSid,
      callSid: this.#callSid,
      callStatus,
      callToken: this.#settings.callToken,
      from: this.#settings.from,
      to: this.#settings.to,
    });
    const params = pending.bare ? { AccountSid: base["AccountSid"]!, CallSid: base["CallSid"]!, ...pending.params } : { ...base, ...pending.params };
    const cookies = this.#cookies.size ? [...this.#cookies].map(([name, value]) => `${name}=${value}`).join("; ") : undefined;
    const webhook: CallWebhook = {
      eventType: pending.eventType,
      eventId,
      waits: pending.eventType !== "status" && pending.ignoresReply !== true,
      afterMs,
      request: pending.asBrowserGet
        ? { method: "GET", url: pending.url, body: Buffer.alloc(0), contentType: undefined, headers: twilioHeaders(eventId, cookies) }
        : formRequest(pending.method, pending.url, params, twilioHeaders(eventId, cookies)),
    };
    this.#pendingOf.set(webhook, pending);
    return webhook;
  }
}
