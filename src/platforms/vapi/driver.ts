/**
 * A Vapi call played from a caller script (README: Platforms and caller scripts, docs/platforms/vapi.md): status-update ringing (and an
 * assistant-request when the phone number has no assistant), in-progress, the assistant's greeting, then
 * per caller turn speech-update/transcript/conversation-update, tool-calls where the script calls a tool,
 * and at the end status-update ended plus an end-of-call-report whose endedReason says how it ended.
 */
import type { CallerInput, CallSetup, CallWebhook, DeliveryOutcome, EndReason, StreamEnd } from "../types.js";
import { CallDriverBase } from "../shared/call-driver-base.js";
import { speechMs } from "../shared/timing.js";
import { subscribedMessages } from "./assistant.js";
import { messageSpec } from "./grammar.js";
import {
  endedReason,
  messageBody,
  newVapiCall,
  openAiFormat,
  toolCallFields,
  type CallState,
  type ConversationMessage,
  type ToolShape,
  type VapiCall,
} from "./messages.js";
import { vapiEventId } from "./identity.js";
import { vapiSettings } from "./settings.js";

interface Pending {
  type: string;
  fields: Record<string, unknown>;
  /** The assistant as it stood (message.assistant). */
  assistant: Record<string, unknown>;
  /** The conversation as it stood when the message was decided (the outbox keeps the platform time of then). */
  messages: ConversationMessage[];
  state: CallState;
}

const defaultGreeting = "Hello! Thanks for calling. How can I help you today?";

/** Messages the call itself needs answered: sent whatever the assistant's serverMessages say. */
const alwaysSent = new Set(["assistant-request", "tool-calls", "function-call", "transfer-destination-request"]);

export class VapiCallDriver extends CallDriverBase<Pending> {
  readonly #call: VapiCall;
  readonly #shape: ToolShape;
  readonly #silenceTimeoutMs: number;
  readonly #state: CallState = { status: "ringing", startedAt: undefined };
  #messages: ConversationMessage[] = [];
  #turn = 0;
  /** Vapi's endedReason, set with `ended`. */
  #endedReason: string | undefined;
  /** The tool calls of the last tool-calls message, for the conversation-update that follows. */
  #toolCalls: { id: string; name: string; arguments: Record<string, unknown> }[] = [];
  /** The messages the assistant subscribes to (serverMessages; the SDK's default unless set). */
  #subscribed: ReadonlySet<string>;
  /** message.assistant: what vwh knows of the assistant running the call. */
  #assistant: Record<string, unknown>;

  constructor(setup: CallSetup) {
    super(setup);
    const settings = vapiSettings(setup.settings);
    this.#shape = settings.toolShape;
    this.#silenceTimeoutMs = settings.silenceTimeoutSeconds * 1000;
    const { callId, from, to, direction } = setup.call;
    this.#call = newVapiCall(callId, from, to, direction, setup.start, settings.assistantRequest ? undefined : setup.newId("asst"));
    this.#assistantRequest = settings.assistantRequest;
    this.#subscribed = subscribedMessages(settings.serverMessages);
    this.#assistant = {
      name: "vwh simulated assistant",
      firstMessage: defaultGreeting,
      ...(settings.serverMessages && { serverMessages: [...settings.serverMessages] }),
    };
  }

  readonly #assistantRequest: boolean;

  replied(webhook: CallWebhook, outcome: DeliveryOutcome): void {
    if (!webhook.waits || this.ended) return;
    const usable = outcome.ok && outcome.parsed.failures.length === 0;
    const actions = outcome.ok ? outcome.parsed.actions : [];
    switch (webhook.eventType) {
      case "assistant-request": {
        if (!usable) {
          const failures = outcome.ok ? outcome.parsed.failures : [];
          const reason = !outcome.ok
            ? "assistant-request-failed"
            : failures.some((finding) => finding.message.includes("got none"))
              ? "assistant-request-returned-no-assistant"
              : failures.some((finding) => finding.kind === "latency")
                ? "assistant-request-failed"
                : "assistant-request-returned-invalid-assistant";
          return this.#endCall("failed", reason);
        }
        const rejected = actions.find((action) => action.type === "reject");
        if (rejected) {
          this.#say("bot", String(rejected["text"]));
          return this.#endCall("rejected", "assistant-request-returned-error");
        }
        const transfer = actions.find((action) => action.type === "transfer");
        if (transfer) {
          this.#send({ type: "status-update", fields: { status: "forwarding", destination: { type: transfer["kind"], number: transfer["to"] } } });
          return this.#endCall("transferred", "assistant-request-returned-forwarding-phone-number");
        }
        const assistant = actions.find((action) => action.type === "assistant");
        if (typeof assistant?.["assistantId"] === "string") this.#call.assistantId = assistant["assistantId"];
        if (assistant?.path === "assistant") {
          // A transient assistant runs the call: its serverMessages (or the default) decide what comes next.
          this.#subscribed = subscribedMessages(assistant["serverMessages"]);
          this.#assistant = {
            ...(typeof assistant["name"] === "string" && { name: assistant["name"] }),
            ...(typeof assistant["text"] === "string" && { firstMessage: assistant["text"] }),
            ...(Array.isArray(assistant["serverMessages"]) && { serverMessages: assistant["serverMessages"] }),
          };
        }
        this.#answer(typeof assistant?.["text"] === "string" ? assistant["text"] : defaultGreeting);
        return;
      }
      case "tool-calls":
      case "function-call": {
        if (!usable) return;
        const results = actions.filter((action) => action.type === "tool_result");
        this.#messages.push({
          role: "tool_calls",
          time: this.clock,
          secondsFromStart: this.#seconds(),
          toolCalls: this.#toolCalls.map((call) => ({
            id: call.id,
            type: "function",
            function: { name: call.name, arguments: JSON.stringify(call.arguments) },
          })),
        });
        for (const result of results) {
          const value = result["result"] ?? result["error"];
          this.#messages.push({
            role: "tool_call_result",
            time: this.clock,
            secondsFromStart: this.#seconds(),
            name: String(result["name"] ?? ""),
            toolCallId: String(result["toolCallId"]),
            result: typeof value === "string" ? value : JSON.stringify(value),
          });
        }
        this.#conversationUpdate();
        return;
      }
      case "transfer-destination-request": {
        const transfer = actions.find((action) => action.type === "transfer");
        if (!usable || !transfer) return; // the transfer fails; the assistant carries on
        const spoken = actions.find((action) => action.type === "speak");
        if (spoken) this.#say("bot", String(spoken["text"]));
        this.#send({
          type: "status-update",
          fields: {
            status: "forwarding",
            destination: { type: transfer["kind"], ...(transfer["kind"] === "sip" ? { sipUri: transfer["to"] } : { number: transfer["to"] }) },
          },
        });
        return this.#endCall("transferred", "assistant-forwarded-call");
      }
      default:
        return;
    }
  }

  protected callerStep(input: CallerInput): void {
    switch (input.kind) {
      case "connect":
        this.#send({ type: "status-update", fields: { status: "ringing" } });
        if (this.#assistantRequest) this.#send({ type: "assistant-request", fields: {} });
        else this.#answer(defaultGreeting);
        return;
      case "hangup":
        return this.#endCall("caller_hangup", "customer-ended-call");
      case "say":
        return this.#userTurn(input.text, false);
      case "interrupt":
        return this.#userTurn(input.text, true);
      case "silence":
        this.clock += input.ms;
        if (input.ms >= this.#silenceTimeoutMs) this.#endCall("timeout", "silence-timed-out");
        return;
      case "tool":
        return this.#tool(input.name, input.arguments);
      case "event":
        this.#send({ type: input.type, fields: input.payload }, true);
        return;
      case "press":
        throw new Error("Vapi calls take no DTMF from scripts (the script validation refuses press)");
    }
  }

  override streamEnded(_end: StreamEnd): void {}

  #seconds(): number {
    return Math.round((this.clock - (this.#state.startedAt ?? this.setup.start).getTime()) / 10) / 100;
  }

  #answer(greeting: string): void {
    this.clock += 1200;
    this.#state.status = "in-progress";
    this.#state.startedAt = new Date(this.clock);
    this.#send({ type: "status-update", fields: { status: "in-progress" } });
    this.#assistantTurn(greeting);
  }

  #assistantTurn(text: string): void {
    this.#send({ type: "speech-update", fields: { status: "started", role: "assistant", turn: this.#turn } });
    this.clock += speechMs(text);
    this.#say("bot", text);
    this.#send({ type: "transcript", fields: { role: "assistant", transcriptType: "final", transcript: text } });
    this.#send({ type: "speech-update", fields: { status: "stopped", role: "assistant", turn: this.#turn++ } });
    this.#conversationUpdate();
  }

  #userTurn(text: string, interrupting: boolean): void {
    this.#send({ type: "speech-update", fields: { status: "started", role: "user", turn: this.#turn } });
    if (interrupting) this.#send({ type: "user-interrupted", fields: { turnId: `turn_${this.#turn - 1}` } });
    this.clock += speechMs(text);
    this.#say("user", text);
    this.#send({ type: "transcript", fields: { role: "user", transcriptType: "final", transcript: text } });
    this.#send({ type: "speech-update", fields: { status: "stopped", role: "user", turn: this.#turn++ } });
    this.#conversationUpdate();
  }

  #tool(name: string, args: Record<string, unknown>): void {
    // Vapi's built-in tools: endCall ends the call itself; transferCall without a destination asks the server.
    if (name === "endCall") return this.#endCall("handler_hangup", "assistant-ended-call");
    if (name === "transferCall") {
      this.#send({ type: "transfer-destination-request", fields: {} });
      return;
    }
    this.clock += 600;
    this.#toolCalls = [{ id: this.setup.newId("call"), name, arguments: args }];
    // The legacy model.functions: one function-call message, answered with {result}.
    if (this.#shape === "function-call") this.#send({ type: "function-call", fields: { functionCall: { name, parameters: args } } });
    else this.#send({ type: "tool-calls", fields: toolCallFields(this.#shape, this.#toolCalls, this.setup.url.href) });
  }

  /** Queues a message the assistant subscribes to (or one the call needs answered, or a script's own `event`). */
  #send(message: Omit<Pending, "messages" | "state" | "assistant">, always = false): void {
    if (!always && !alwaysSent.has(message.type) && !this.#subscribed.has(message.type)) return;
    this.outbox.push({ ...message, assistant: this.#assistant, messages: [...this.#messages], state: { ...this.#state } }, this.clock);
  }

  #say(role: "bot" | "user", message: string): void {
    this.#messages.push({ role, message, time: this.clock, secondsFromStart: this.#seconds() });
  }

  #conversationUpdate(): void {
    // A snapshot: later turns must not change what an earlier message carried.
    const messages = [...this.#messages];
    this.#send({ type: "conversation-update", fields: { messages, messagesOpenAIFormatted: openAiFormat(messages) } });
  }

  #endCall(reason: EndReason, vapiReason: string): void {
    if (this.ended) return;
    this.ended = reason;
    this.#endedReason = endedReason(vapiReason);
  }

  protected closingWebhooks(): void {
    const reason = this.#endedReason!;
    this.clock += 300;
    this.#state.status = "ended";
    this.#state.endedAt = new Date(this.clock);
    this.#state.endedReason = reason;
    this.#send({ type: "status-update", fields: { status: "ended", endedReason: reason } });
    const startedAt = this.#state.startedAt;
    const seconds = startedAt ? (this.clock - startedAt.getTime()) / 1000 : 0;
    this.#send({
      type: "end-of-call-report",
      fields: {
        endedReason: reason,
        analysis: { summary: `The call ended: ${reason}.` },
        cost: Math.round(seconds * 0.0025 * 10_000) / 10_000,
        costs: [],
        ...(startedAt && { startedAt: startedAt.toISOString() }),
        endedAt: this.#state.endedAt.toISOString(),
      },
    });
  }

  protected webhook(pending: Pending, at: number, afterMs: number): CallWebhook {
    const body = messageBody(this.#call, pending.state, pending.type, pending.fields, new Date(at), pending.messages, pending.assistant);
    const spec = messageSpec(pending.type);
    return {
      eventType: pending.type,
      eventId: vapiEventId(body) ?? this.setup.newId("msg"),
      waits: waitsForReply(pending.type, spec !== undefined && spec.reply !== undefined),
      afterMs,
      request: { method: "POST", url: this.setup.url, body, contentType: "application/json", headers: {} },
    };
  }
}

/** Vapi waits on the messages with a reply type, except voice-request (raw audio, another server). */
export function waitsForReply(type: string, hasReply: boolean): boolean {
  return hasReply && type !== "voice-request";
}
