/**
 * A Retell phone call played from a caller script (docs/platforms/retell.md): call_inbound (the number's inbound
 * webhook; its overrides apply), call_started, custom-function calls where the script calls a tool
 * (with the live transcript), and at the end call_ended then call_analyzed with the disconnection reason.
 * A failed call_inbound does not drop the call: Retell falls back to the number's agent.
 *
 * With a ws:// or wss:// URL the handler is a custom LLM instead (llm.ts): the call connects to
 * `<url>/<call_id>` and the whole script plays on that socket; no webhooks go out (the URL takes none).
 */
import type { CallerInput, CallSetup, CallWebhook, DeliveryOutcome, EndReason, StreamEnd } from "../types.js";
import { CallDriverBase } from "../shared/call-driver-base.js";
import { speechMs } from "../shared/timing.js";
import { disconnectionReason } from "./grammar.js";
import {
  callObject,
  callWebhookBody,
  functionBody,
  functionEventType,
  identifyRetell,
  inboundBody,
  inboundEventType,
  newRetellCall,
  type CallProgress,
  type RetellCall,
  type Utterance,
} from "./messages.js";
import { retellSettings } from "./settings.js";

interface Pending {
  eventType: string;
  body: Buffer;
  waits: boolean;
}

export class RetellCallDriver extends CallDriverBase<Pending> {
  readonly #call: RetellCall;
  readonly #silenceMs: number;
  readonly #inboundWebhook: boolean;
  readonly #greeting: string;
  #progress: CallProgress = { status: "registered", startMs: undefined, transcript: [] };
  /** The URL is the custom-LLM socket: the call is played there. */
  readonly #llm: boolean;
  /** Retell's disconnection_reason, set with `ended`. */
  #disconnection: string | undefined;

  constructor(setup: CallSetup) {
    super(setup);
    const settings = retellSettings(setup.settings);
    this.#silenceMs = settings.endCallAfterSilenceMs;
    this.#inboundWebhook = settings.inboundWebhook && (setup.call.direction ?? "inbound") === "inbound";
    this.#greeting = settings.greeting;
    this.#call = newRetellCall(setup.call.callId, setup.call.from, setup.call.to, setup.call.direction);
    this.#llm = setup.url.protocol === "ws:" || setup.url.protocol === "wss:";
  }

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (webhook.eventType === inboundEventType) {
      // Overrides apply only from a usable reply; otherwise the number's own agent answers.
      if (outcome.ok && outcome.parsed.failures.length === 0) this.#applyOverrides(outcome.reply.body);
      this.#start();
    }
  }

  protected callerStep(input: CallerInput): void {
    switch (input.kind) {
      case "connect":
        if (this.#llm) return this.#connectLlm();
        if (this.#inboundWebhook) this.#send(inboundEventType, inboundBody(this.#call), true);
        else this.#start();
        return;
      case "hangup":
        return this.#endCall("caller_hangup", "user_hangup");
      case "say":
      case "interrupt":
        this.clock += speechMs(input.text);
        this.#utter("user", input.text);
        return;
      case "silence":
        this.clock += input.ms;
        if (input.ms >= this.#silenceMs) this.#endCall("timeout", "inactivity");
        return;
      case "tool":
        this.clock += 500;
        this.#send(functionEventType, functionBody(input.name, this.#call, this.#progress, input.arguments), true);
        return;
      case "event":
        this.#send(input.type, callWebhookBody(input.type, this.#call, this.#progress, input.payload), false);
        return;
      case "press":
        throw new Error("Retell scripts take no DTMF (the script validation refuses press)");
    }
  }

  override streamEnded(end: StreamEnd): void {
    if (!this.#llm) return;
    if (end.kind === "caller_hangup") this.#endCall("caller_hangup", "user_hangup");
    else if (end.kind === "closed_by_agent" && end.transferTo !== undefined) this.#endCall("transferred", "call_transfer");
    else if (end.kind === "closed_by_agent" && end.ends) this.#endCall("handler_hangup", "agent_hangup");
    else this.#endCall("failed", "error_llm_websocket_lost_connection");
  }

  /** Retell opens the socket to `<url>/<call_id>` as the call starts. */
  #connectLlm(): void {
    this.clock += 1500; // the call rings, then connects
    this.#progress = { ...this.#progress, status: "ongoing", startMs: this.clock };
    const url = new URL(this.setup.url);
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/${encodeURIComponent(this.#call.callId)}`;
    const { reminderTriggerMs, reminderMaxCount } = retellSettings(this.setup.settings);
    const parameters = {
      call: JSON.stringify(callObject(this.#call, this.#progress)),
      reminderTriggerMs: String(reminderTriggerMs),
      reminderMaxCount: String(reminderMaxCount),
    };
    this.stream = { url, protocol: "retell-llm", headers: {}, parameters, path: "llm-websocket" };
  }

  #applyOverrides(body: Buffer): void {
    try {
      const inbound = (JSON.parse(body.toString("utf8")) as { call_inbound?: Record<string, unknown> }).call_inbound;
      if (typeof inbound?.["override_agent_id"] === "string") this.#call.agentId = inbound["override_agent_id"];
      if (typeof inbound?.["override_agent_version"] === "number") this.#call.agentVersion = inbound["override_agent_version"];
      if (inbound?.["metadata"] !== undefined) this.#call.metadata = inbound["metadata"];
      if (inbound?.["dynamic_variables"] && typeof inbound["dynamic_variables"] === "object")
        this.#call.dynamicVariables = inbound["dynamic_variables"] as Record<string, string>;
    } catch {
      // an empty or non-JSON 2xx reply: no overrides
    }
  }

  #start(): void {
    this.clock += 1500; // the call rings, then connects
    this.#progress = { ...this.#progress, status: "ongoing", startMs: this.clock };
    this.#send("call_started", callWebhookBody("call_started", this.#call, this.#progress), false);
    this.clock += speechMs(this.#greeting);
    this.#utter("agent", this.#greeting);
  }

  #utter(role: Utterance["role"], content: string): void {
    this.#progress = { ...this.#progress, transcript: [...this.#progress.transcript, { role, content }] };
  }

  #endCall(reason: EndReason, disconnection: string): void {
    if (this.ended) return;
    this.ended = reason;
    this.#disconnection = disconnectionReason(disconnection);
  }

  protected closingWebhooks(): void {
    if (this.#llm) return; // the socket URL takes no webhooks
    this.clock += 200;
    this.#progress = { ...this.#progress, status: "ended", endMs: this.clock, disconnectionReason: this.#disconnection! };
    this.#send("call_ended", callWebhookBody("call_ended", this.#call, this.#progress), false);
    this.clock += 4000; // post-call analysis
    this.#send("call_analyzed", callWebhookBody("call_analyzed", this.#call, { ...this.#progress, analysed: true }), false);
  }

  #send(eventType: string, body: Buffer, waits: boolean): void {
    this.outbox.push({ eventType, body, waits }, this.clock);
  }

  protected webhook(pending: Pending, _at: number, afterMs: number): CallWebhook {
    return {
      eventType: pending.eventType,
      eventId: identifyRetell(pending.body).eventId ?? this.setup.newId("evt"),
      waits: pending.waits,
      afterMs,
      request: { method: "POST", url: this.setup.url, body: pending.body, contentType: "application/json", headers: {} },
    };
  }
}
