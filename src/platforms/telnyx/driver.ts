/**
 * A Telnyx call as a reactive call (README: Platforms and caller scripts, docs/platforms/telnyx.md): vwh sends call.initiated, and from then on the
 * handler drives the call with REST commands to vwh's Call Control API (api-server.ts). Each command is
 * checked when it arrives (its body against the SDK's grammar, the call's state: a speak before answer is
 * refused as the real API refuses it) and performed in order by `next()`: reported as an `observed` move
 * (its normalised actions, for turn expectations) and followed by the webhooks it causes. Replies to
 * webhooks are ignored, as Telnyx ignores them.
 */
import { randomUUID } from "node:crypto";
import type { Finding } from "../../core/findings.js";
import { speechMs } from "../shared/timing.js";
import type { Action, CallerInput, CallSetup, CallWebhook, DeliveryOutcome, EndReason, StreamEnd } from "../types.js";
import { CallDriverBase, type ObservedMove } from "../shared/call-driver-base.js";
import type { CallControlApi, CommandRequest, CommandSink } from "./api-server.js";
import { checkCommand, errorReply, errors, okReply, type CommandReply } from "./commands.js";
import { callControlId, callFields, webhookRequest } from "./envelope.js";
import {
  beforeAnswer,
  commandIdWindowMs,
  count,
  defaultCommandTimeoutMs,
  maxCommandsPerCall,
  pollMs,
  refusedGraceMs,
  text,
  type Gather,
  type Pending,
  type Performed,
} from "./call-rules.js";

export { defaultCommandTimeoutMs, maxCommandsPerCall } from "./call-rules.js";

export class TelnyxCallDriver extends CallDriverBase<Pending> implements CommandSink {
  readonly #api: CallControlApi;
  readonly #commandTimeoutMs: number;
  /** Commands accepted, performed in order by next(). */
  #performed: Performed[] = [];
  /** Findings about refused commands, reported as observed moves. */
  #refused: { label: string; failures: Finding[] }[] = [];
  #commandIds = new Map<string, number>();
  #commandsReceived = 0;
  #wake: (() => void) | undefined;
  /** Webhooks handed to the engine and not yet replied to (held back for --reorder). */
  #inFlight = 0;
  /** Held webhooks to have the engine deliver before vwh waits for commands (an observed move does). */
  #deliverHeld = false;
  /** The last webhook got no 2xx: its handler is not going to send a command for it. */
  #lastRefused = false;
  #answered = false;
  /** Set when the call is over for the API: commands after it get 90018. */
  #over = false;
  #clientState: string | null = null;
  #gather: Gather | undefined;
  #transcribing = false;
  #streaming = false;

  constructor(setup: CallSetup, api: CallControlApi) {
    super(setup);
    this.#api = api;
    const timeout = setup.settings["command_timeout_ms"];
    this.#commandTimeoutMs = typeof timeout === "number" && timeout > 0 ? timeout : defaultCommandTimeoutMs;
    api.register(callControlId(setup.call.callId), this);
    // Every webhook is stamped with the platform time its event happened (occurred_at): call.speak.started
    // when the speech starts, call.speak.ended after its duration, whenever they go out.
    this.outbox.push(
      {
        eventType: "call.initiated",
        payload: { state: "parked", start_time: setup.start.toISOString(), calling_party_type: "pstn", caller_id_name: setup.call.from ?? "" },
      },
      this.clock,
    );
  }

  /** A command from the handler (api-server.ts): checked now, performed in order by next(). */
  receive(request: CommandRequest): CommandReply {
    const { command } = request;
    const label = `${request.method} /v2/calls/{call_control_id}/actions/${command}`;
    const refuse = (failures: Finding[], reply: CommandReply) => {
      if (failures.length) this.#refused.push({ label, failures });
      this.#wake?.();
      return reply;
    };
    if (++this.#commandsReceived > maxCommandsPerCall) {
      // Each command becomes a move of the call: a handler that never stops would keep the call running forever.
      if (this.#commandsReceived === maxCommandsPerCall + 1) {
        this.#over = true;
        this.ended ??= "failed";
        return refuse(
          [
            {
              kind: "loop",
              path: `actions/${command}`,
              message: `more than ${maxCommandsPerCall} Call Control commands in one call: the handler loops (vwh answers 429 from here on)`,
            },
          ],
          errorReply(429, [errors.tooMany()]),
        );
      }
      return errorReply(429, [errors.tooMany()]);
    }
    if (!request.authorized)
      return refuse(
        [{ kind: "rule", path: `actions/${command}`, message: "no Authorization: Bearer header: Telnyx answers 401 (give the telnyx client an apiKey)" }],
        errorReply(401, [errors.authentication()]),
      );
    if (!request.body.ok)
      return refuse(
        [{ kind: "schema", path: command, message: `body is ${request.body.message}` }],
        errorReply(400, [errors.badRequest(`The request body is ${request.body.message}.`)]),
      );
    const checked = checkCommand(command, request.method, request.body.value);
    if (checked.refusal) return refuse(checked.findings, checked.refusal);
    const body = request.body.value as Record<string, unknown>;
    if (this.#over) return refuse([], errorReply(422, [errors.ended()]));
    const commandId = text(body["command_id"]);
    if (commandId !== undefined) {
      const seen = this.#commandIds.get(commandId);
      // Telnyx ignores the repeat and answers as it did the first time.
      if (seen !== undefined && this.setup.now() - seen < commandIdWindowMs) return okReply;
      this.#commandIds.set(commandId, this.setup.now());
    }
    if (!this.#answered && !beforeAnswer.has(command)) {
      const message = `${command} before answer: Telnyx refuses it with 422 ${errors.notAnswered(command).code} "Call not answered yet" (answer the call on call.initiated first)`;
      return refuse([{ kind: "rule", path: command, message }], errorReply(422, [errors.notAnswered(command)]));
    }
    if (command === "answer") {
      if (this.#answered)
        return refuse(
          [
            {
              kind: "idempotency",
              path: "answer",
              message: "answer again on an answered call: a duplicate call.initiated was acted on twice (dedup on data.id, or send a command_id)",
            },
          ],
          okReply,
        );
      this.#answered = true;
    }
    if (command === "hangup" || command === "reject" || command === "transfer") this.#over = true;
    this.#performed.push({ command, body });
    this.#wake?.();
    return okReply;
  }

  /** Refused commands' findings first, then the accepted commands, performed one at a time. */
  protected override observe(): ObservedMove | undefined {
    const refused = this.#refused.shift();
    if (refused) return { kind: "observed", label: refused.label, actions: [], failures: refused.failures };
    // The caller acts inside a prompt first: commands the handler already sent wait for that.
    const performed = this.cutInto ? undefined : this.#performed.shift();
    if (performed) {
      const actions = this.#perform(performed);
      return { kind: "observed", label: performed.command, actions, failures: [] };
    }
    if (this.#deliverHeld) {
      this.#deliverHeld = false;
      return { kind: "observed", label: "webhooks delivered", actions: [], failures: [] };
    }
    return undefined;
  }

  /** Nothing pending: a gather waits for the caller; otherwise vwh waits for the handler's next command. */
  protected override execute(): void | Promise<void> {
    if (this.#gather) {
      this.awaitingCaller = true;
      return;
    }
    // Webhooks the engine holds for --reorder must reach the handler before vwh waits on its commands:
    // a move that is not a send has the engine deliver them.
    if (this.#inFlight > 0) {
      this.#deliverHeld = true;
      return;
    }
    return this.#awaitCommand();
  }

  async #awaitCommand(): Promise<void> {
    if (await this.#commandArrived()) return;
    if (!this.#answered) {
      this.#refused.push({ label: "call.initiated", failures: [{ kind: "rule", message: `the handler never answered the call: ${this.#whyUnanswered()}` }] });
      this.ended = "timeout";
      return;
    }
    // Nothing more from the handler: the line is quiet and the caller does the next thing.
    this.awaitingCaller = true;
  }

  /** Which it was: no 2xx for the webhook, or a 2xx and then no command in time; and where commands go when none came at all. */
  #whyUnanswered(): string {
    const why = this.#lastRefused
      ? `it did not accept the webhook (no 2xx; vwh waited ${Math.min(refusedGraceMs, this.#commandTimeoutMs)} ms for a command anyway)`
      : `it accepted the webhook (2xx) but sent no answer command within ${this.#commandTimeoutMs} ms (settings.command_timeout_ms)`;
    if (this.#commandsReceived > 0) return why;
    return `${why}; no command reached vwh's Call Control API at all — the handler's telnyx client must send them to ${this.#api.baseUrl} (TELNYX_BASE_URL=${this.#api.baseUrl})`;
  }

  replied(_webhook: CallWebhook, outcome: DeliveryOutcome): void {
    // Telnyx ignores the reply's body (retries aside): the handler acts through commands, often after it
    // has answered 200 (acknowledge, then act), so any 2xx gets the full command timeout. A handler that
    // refused the webhook (no 2xx) will not command anything for it, so vwh does not wait long for it.
    this.#inFlight = Math.max(0, this.#inFlight - 1);
    this.#lastRefused = !outcome.ok || outcome.reply.status < 200 || outcome.reply.status >= 300;
  }

  protected callerStep(input: CallerInput): void {
    const cut = this.cutInto;
    this.cutInto = undefined;
    if (cut?.action.path === "speak") {
      // Inside a plain speak: a hangup ends it (call.speak.ended call_hangup); keys are reported and it plays on.
      if (input.kind === "hangup") this.outbox.push({ eventType: "call.speak.ended", payload: { status: "call_hangup" } }, this.clock);
      else {
        this.callerStep(input);
        this.clock += cut.remainingMs;
        this.outbox.push({ eventType: "call.speak.ended", payload: { status: "completed" } }, this.clock);
        return;
      }
    }
    switch (input.kind) {
      case "connect":
        return;
      case "hangup":
        this.ended ??= "caller_hangup";
        // The call is over for the API at once: the handler's next command gets 422 90018.
        this.#over = true;
        return;
      case "press":
        for (const digit of input.digits) {
          this.clock += 300;
          this.outbox.push({ eventType: "call.dtmf.received", payload: { digit } }, this.clock);
        }
        if (this.#gather) this.#endGather(input.digits);
        return;
      case "say":
      case "interrupt":
        this.clock += speechMs(input.text);
        if (this.#transcribing) {
          this.outbox.push(
            {
              eventType: "call.transcription",
              payload: { transcription_data: { transcript: input.text, confidence: input.confidence, is_final: true, transcription_track: "inbound" } },
            },
            this.clock,
          );
        }
        // A DTMF gather does not hear speech: it times out.
        if (this.#gather) this.#endGather(undefined);
        return;
      case "silence":
        this.clock += input.ms;
        if (this.#gather) this.#endGather(undefined);
        return;
      case "event":
        this.outbox.push({ eventType: input.type, payload: input.payload }, this.clock);
        return;
      case "tool":
        throw new Error("the telnyx platform has no tool calls (the script validation refuses them)");
    }
  }

  override streamEnded(end: StreamEnd): void {
    this.#streaming = false;
    if (end.kind === "failed") this.outbox.push({ eventType: "streaming.failed", payload: { failure_reason: end.message } }, this.clock);
    else this.outbox.push({ eventType: "streaming.stopped", payload: {} }, this.clock);
    if (end.kind === "caller_hangup") this.ended ??= "caller_hangup";
  }

  override async close(): Promise<void> {
    this.#over = true;
    this.#api.unregister(callControlId(this.setup.call.callId));
  }

  /** Waits (the run's wait, in short slices) for a command or a refusal, up to the command timeout. */
  async #commandArrived(): Promise<boolean> {
    let arrived = false;
    const signal = new Promise<void>((resolve) => (this.#wake = resolve)).then(() => (arrived = true));
    const limit = this.#lastRefused ? Math.min(refusedGraceMs, this.#commandTimeoutMs) : this.#commandTimeoutMs;
    try {
      for (let waited = 0; !arrived && waited < limit; waited += pollMs) await Promise.race([signal, this.setup.wait(pollMs)]);
    } finally {
      this.#wake = undefined;
    }
    return arrived || this.#performed.length > 0 || this.#refused.length > 0;
  }

  #endGather(digits: string | undefined): void {
    const gather = this.#gather!;
    this.#gather = undefined;
    if (digits === undefined) {
      this.clock += gather.timeoutMs;
      this.outbox.push({ eventType: "call.gather.ended", payload: { digits: "", status: "timeout" } }, this.clock);
      return;
    }
    let collected = digits;
    if (gather.terminatingDigit && collected.includes(gather.terminatingDigit)) collected = collected.slice(0, collected.indexOf(gather.terminatingDigit));
    if (gather.maximumDigits !== undefined) collected = collected.slice(0, gather.maximumDigits);
    const valid = [...collected].every((digit) => gather.validDigits === undefined || gather.validDigits.includes(digit));
    this.outbox.push({ eventType: "call.gather.ended", payload: { digits: collected, status: valid ? "valid" : "invalid" } }, this.clock);
  }

  #listen(path: string, body: Record<string, unknown>): Action {
    this.#gather = {
      path,
      validDigits: text(body["valid_digits"]),
      maximumDigits: count(body["maximum_digits"]),
      terminatingDigit: text(body["terminating_digit"]),
      timeoutMs: count(body["timeout_millis"]) ?? 60_000,
    };
    const maxDigits = count(body["maximum_digits"]);
    return { type: "listen", path, input: ["dtmf"], ...(maxDigits !== undefined && { max_digits: maxDigits }) };
  }

  /** One accepted command: its normalised actions, and the webhooks it causes queued with platform time. */
  #perform({ command, body }: Performed): Action[] {
    const clientState = text(body["client_state"]);
    if (clientState !== undefined) this.#clientState = clientState;
    const path = command;
    switch (command) {
      case "answer": {
        this.outbox.push({ eventType: "call.answered", payload: { state: "answered", start_time: new Date(this.clock).toISOString() } }, this.clock);
        const streamUrl = text(body["stream_url"]);
        return streamUrl ? [this.#startStream(streamUrl, body, "answer.stream_url")] : [];
      }
      case "speak": {
        const payload = text(body["payload"]) ?? "";
        const speak: Action = { type: "speak", path, text: payload, voice: body["voice"] };
        this.outbox.push({ eventType: "call.speak.started", payload: {} }, this.clock);
        // A caller's step inside the speech (after_ms) leaves call.speak.ended to it (callerStep).
        if (this.playAudio(speak, speechMs(payload))) this.outbox.push({ eventType: "call.speak.ended", payload: { status: "completed" } }, this.clock);
        return [speak];
      }
      case "gather_using_speak": {
        const payload = text(body["payload"]) ?? "";
        const speak: Action = { type: "speak", path: `${path}.payload`, text: payload, voice: body["voice"], barge_in: true };
        // The gather listens while its prompt plays: keys pressed during it end the prompt and count.
        const listen = this.#listen(path, body);
        this.playAudio(speak, speechMs(payload));
        return [speak, listen];
      }
      case "gather_using_audio": {
        const url = text(body["audio_url"]) ?? text(body["media_name"]) ?? "";
        this.outbox.push({ eventType: "call.playback.started", payload: { media_url: url } }, this.clock);
        this.clock += 3000;
        this.outbox.push({ eventType: "call.playback.ended", payload: { media_url: url, status: "completed" } }, this.clock);
        return [{ type: "play", path: `${path}.audio_url`, url, barge_in: true }, this.#listen(path, body)];
      }
      case "gather":
        return [this.#listen(path, body)];
      case "gather_stop":
        if (this.#gather) {
          this.#gather = undefined;
          this.outbox.push({ eventType: "call.gather.ended", payload: { digits: "", status: "cancelled" } }, this.clock);
        }
        return [];
      case "playback_start": {
        const url = text(body["audio_url"]) ?? text(body["media_name"]) ?? "";
        const loops = count(body["loop"]) ?? 1;
        this.outbox.push({ eventType: "call.playback.started", payload: { media_url: url, overlay: body["overlay"] === true } }, this.clock);
        this.clock += 3000 * loops;
        this.outbox.push({ eventType: "call.playback.ended", payload: { media_url: url, overlay: body["overlay"] === true, status: "completed" } }, this.clock);
        return [{ type: "play", path, url, loop: loops }];
      }
      case "transfer": {
        const to = text(body["to"]) ?? "";
        this.clock += 2000;
        this.outbox.push({ eventType: "call.bridged", payload: { to, state: "bridged" } }, this.clock);
        this.ended = "transferred";
        return [{ type: "transfer", path, to }];
      }
      case "hangup":
        this.ended = "handler_hangup";
        return [{ type: "hangup", path }];
      case "reject":
        this.ended = "rejected";
        return [{ type: "reject", path, reason: body["cause"] }];
      case "streaming_start":
        return [this.#startStream(text(body["stream_url"]) ?? "", body, path)];
      case "streaming_stop":
        if (this.#streaming) this.streamEnded({ kind: "closed_by_agent" });
        return [];
      case "transcription_start":
        this.#transcribing = true;
        return [{ type: "listen", path, input: ["speech"] }];
      case "transcription_stop":
        this.#transcribing = false;
        return [];
      case "record_start":
        return [{ type: "record", path, format: body["format"], channels: body["channels"] }];
      default:
        // Accepted and checked; vwh does not play it further (no webhooks of its own).
        return [];
    }
  }

  #startStream(url: string, body: Record<string, unknown>, path: string): Action {
    const parameters: Record<string, string> = {};
    for (const field of ["stream_track", "stream_codec", "stream_bidirectional_mode"]) if (body[field] !== undefined) parameters[field] = String(body[field]);
    if (URL.canParse(url) && /^wss?:$/.test(new URL(url).protocol)) {
      this.#streaming = true;
      this.outbox.push({ eventType: "streaming.started", payload: { stream_url: url } }, this.clock);
      this.stream = { url: new URL(url), protocol: "telnyx", headers: {}, parameters, path };
    } else {
      this.#refused.push({ label: path, failures: [{ kind: "schema", path, message: `expected a ws:// or wss:// URL, got ${JSON.stringify(url)}` }] });
      this.outbox.push({ eventType: "streaming.failed", payload: { failure_reason: "invalid stream_url", stream_params: { stream_url: url } } }, this.clock);
    }
    return { type: "stream", path, url, ...parameters };
  }

  protected closingWebhooks(reason: EndReason): void {
    this.#over = true;
    if (this.#gather && reason === "caller_hangup") {
      this.#gather = undefined;
      this.outbox.push({ eventType: "call.gather.ended", payload: { digits: "", status: "call_hangup" } }, this.clock);
    }
    const cause = reason === "rejected" ? "call_rejected" : reason === "timeout" ? "timeout" : "normal_clearing";
    const source = reason === "caller_hangup" || reason === "timeout" ? "caller" : "callee";
    this.clock += 500;
    this.outbox.push(
      {
        eventType: "call.hangup",
        payload: {
          hangup_cause: cause,
          hangup_source: source,
          sip_hangup_cause: reason === "rejected" ? "603" : "200",
          start_time: this.setup.start.toISOString(),
        },
      },
      this.clock,
    );
  }

  protected webhook(pending: Pending, at: number, afterMs: number): CallWebhook {
    this.#inFlight++;
    const eventId = randomUUID();
    const payload = { ...callFields(this.setup.call, this.#clientState), ...pending.payload };
    return {
      eventType: pending.eventType,
      eventId,
      waits: false,
      afterMs,
      request: webhookRequest(pending.eventType, eventId, new Date(at), payload, this.setup.url),
    };
  }
}
