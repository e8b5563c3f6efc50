/**
 * Retell's custom-LLM WebSocket, Retell's side (docs.retellai.com/api-references/llm-websocket; message
 * types as in Retell's official demos, RetellAI/retell-custom-llm-node-demo src/types.ts — retell-sdk
 * ships no types for this socket). Retell connects to `{your-server-websocket-endpoint}/{call_id}`; the
 * server sends an optional `config` and a `response` with response_id 0, the begin message (empty
 * content: wait for the user). Retell then sends `update_only` (transcript updates, no answer wanted),
 * `response_required` / `reminder_required` (answer with this response_id; each request a larger id than
 * the last), `call_details` when config asked for them, and `ping_pong` every 2 s under
 * `config.auto_reconnect` (echoed by the server). The server answers with `response` messages carrying the
 * request's response_id (`content` streamed, `content_complete`, `end_call`, `transfer_number`,
 * `no_interruption_allowed`), `agent_interrupt`, `tool_call_invocation` / `tool_call_result`, `ping_pong`,
 * `update_agent`, `metadata`. A response for an older id than the latest request is an answer the caller
 * barged in on, or a reminder superseded: Retell drops it.
 *
 * MediaStreamRequest.parameters["call"]: the call object (JSON) that call_details carries.
 */
import * as z from "zod";
import type { Finding } from "../../core/findings.js";
import { parseJsonFrame, type AgentText, type Outgoing, type ProtocolSetup, type TextProtocol } from "../../media/protocol.js";

/** How often Retell pings under auto_reconnect, and how long it waits for an echo before it gives the socket up. */
export const pingEveryMs = 2000;
const pingGiveUpMs = 5000;
/** Characters one transcript utterance keeps (an agent streaming without end cannot grow the transcript without bound). */
const maxUtteranceChars = 65_536;
/** Utterances the transcript keeps (the oldest go first). */
const maxUtterances = 200;

const responseId = z.number().int().nonnegative();
const serverMessage = z.discriminatedUnion("response_type", [
  z.looseObject({
    response_type: z.literal("config"),
    config: z.looseObject({ auto_reconnect: z.boolean().optional(), call_details: z.boolean().optional(), transcript_with_tool_calls: z.boolean().optional() }),
  }),
  z.looseObject({ response_type: z.literal("ping_pong"), timestamp: z.number() }),
  z.looseObject({
    response_type: z.literal("response"),
    response_id: responseId,
    content: z.string(),
    content_complete: z.boolean(),
    no_interruption_allowed: z.boolean().optional(),
    end_call: z.boolean().optional(),
    transfer_number: z.string().min(1).optional(),
    digit_to_press: z.string().optional(),
  }),
  z.looseObject({
    response_type: z.literal("agent_interrupt"),
    interrupt_id: responseId,
    content: z.string(),
    content_complete: z.boolean(),
    no_interruption_allowed: z.boolean().optional(),
    end_call: z.boolean().optional(),
  }),
  z.looseObject({ response_type: z.literal("tool_call_invocation"), tool_call_id: z.string().min(1), name: z.string().min(1), arguments: z.string() }),
  z.looseObject({ response_type: z.literal("tool_call_result"), tool_call_id: z.string().min(1), content: z.string() }),
  z.looseObject({ response_type: z.literal("update_agent"), agent_config: z.looseObject({}) }),
  z.looseObject({ response_type: z.literal("metadata"), metadata: z.unknown() }),
]);
const responseTypes = ["config", "ping_pong", "response", "agent_interrupt", "tool_call_invocation", "tool_call_result", "update_agent", "metadata"];

interface Utterance {
  role: "agent" | "user";
  content: string;
}

export function createProtocol(setup: ProtocolSetup): TextProtocol {
  const call = parseCall(setup.request.parameters["call"], setup.callId);
  const transcript: Utterance[] = [];
  // The agent's reminder settings (retell-sdk AgentResponse: reminder_trigger_ms default 10 s, reminder_max_count default 1).
  const reminderTriggerMs = Number(setup.request.parameters["reminderTriggerMs"] ?? 10_000);
  const reminderMaxCount = Number(setup.request.parameters["reminderMaxCount"] ?? 1);
  let remindersLeft = reminderMaxCount;
  /** The latest request's response_id (0: the begin message, before any request). */
  let current = 0;
  let answering = 0;
  let began = false;
  let autoReconnect = false;
  let firstPing: number | undefined;
  let lastPing: number | undefined;
  /** The latest ping the server echoed (its own clock may differ from the run's: the echo counts, not its timestamp). */
  let lastPong: number | undefined;
  let pongMissed = false;
  let pending: Outgoing[] = [];

  /** The response being answered has said its last (content_complete): what follows is another utterance. */
  let answered = false;
  /**
   * Adds to the transcript: the chunks of one streamed response make one utterance, joined as sent (an
   * LLM's deltas carry their own spaces); another response, an agent_interrupt, or more after a complete
   * response is an utterance of its own. True when `content` starts one.
   */
  const utter = (role: Utterance["role"], content: string, responseOf?: number, complete = false): boolean => {
    const last = transcript.at(-1);
    const continues = role === "agent" && last?.role === "agent" && responseOf === answering && !answered;
    if (continues) last.content = last.content.length >= maxUtteranceChars ? last.content : (last.content + content).slice(0, maxUtteranceChars);
    else transcript.push({ role, content: content.slice(0, maxUtteranceChars) });
    if (transcript.length > maxUtterances) transcript.splice(0, transcript.length - maxUtterances);
    if (role === "agent") {
      answering = responseOf ?? answering;
      answered = complete;
    }
    return !continues;
  };
  const request = (interactionType: "response_required" | "reminder_required") =>
    JSON.stringify({ interaction_type: interactionType, response_id: ++current, transcript });

  return {
    kind: "text",
    defaults: { interruptible: true, preemptible: true },
    opening: () => [],
    userSpeaking: () => JSON.stringify({ interaction_type: "update_only", transcript, turntaking: "user_turn" }),
    prompt(text) {
      utter("user", text);
      remindersLeft = reminderMaxCount;
      return request("response_required");
    },
    // Retell has no interrupt message: the caller's words show in an update, then a new request supersedes the answer.
    interrupt: () => JSON.stringify({ interaction_type: "update_only", transcript, turntaking: "user_turn" }),
    reminderTimes(ms) {
      const times: number[] = [];
      for (let at = reminderTriggerMs; at <= ms && remindersLeft - times.length > 0; at += reminderTriggerMs) times.push(at);
      return times;
    },
    reminder() {
      remindersLeft--;
      return request("reminder_required");
    },
    dtmf: () => undefined,
    noDtmf: "Retell's custom-LLM socket carries no key presses",
    invalid: () => undefined,
    unendedClose: "the server closed the socket without end_call: Retell drops the call",
    tick(now) {
      const out = pending;
      pending = [];
      if (autoReconnect) {
        firstPing ??= now;
        if (lastPing === undefined || now - lastPing >= pingEveryMs) {
          lastPing = now;
          out.push(JSON.stringify({ interaction_type: "ping_pong", timestamp: now }));
        }
        if (now - (lastPong ?? firstPing) > pingGiveUpMs) {
          pongMissed = true;
          lastPong = now; // one finding per silence of 5 s, not one per step
        }
      }
      return out;
    },
    turnFindings(first) {
      const findings: Finding[] = [];
      let fatal = false;
      if (first && !began) {
        findings.push({
          kind: "media",
          path: "begin",
          message:
            "the server sent no begin message (a response with response_id 0, content_complete; empty content to wait for the caller): Retell's agent never speaks",
        });
        fatal = true;
      }
      if (pongMissed) {
        findings.push({
          kind: "media",
          path: "ping_pong",
          message: `config.auto_reconnect is on but the server did not echo ping_pong within ${pingGiveUpMs / 1000} s: Retell closes the socket and reconnects`,
        });
        pongMissed = false;
      }
      return { findings, fatal };
    },
    parse(data, binary, at) {
      const json = parseJsonFrame(data, binary, at);
      if ("finding" in json) return { message: undefined, findings: [json.finding], fatal: true };
      const checked = serverMessage.safeParse(json.value);
      if (!checked.success) {
        const type = json.value["response_type"];
        if (!responseTypes.includes(type as string)) {
          return {
            message: undefined,
            findings: [
              {
                kind: "media",
                path: `${at}.response_type`,
                message: `unknown response_type ${JSON.stringify(type ?? null)} (expected ${responseTypes.join(", ")})`,
              },
            ],
          };
        }
        return {
          message: undefined,
          findings: checked.error.issues
            .slice(0, 5)
            .map((issue) => ({ kind: "media", path: [at, ...issue.path.map(String)].join("."), message: issue.message })),
        };
      }
      const value = checked.data;
      let message: AgentText = { kind: "none" };
      switch (value.response_type) {
        case "config":
          autoReconnect = value.config.auto_reconnect === true;
          if (value.config.call_details === true) pending.push(JSON.stringify({ interaction_type: "call_details", call }));
          break;
        case "ping_pong":
          lastPong = lastPing;
          break;
        case "response": {
          const id = value.response_id;
          if (id > current)
            return {
              message: undefined,
              findings: [{ kind: "media", path: `${at}.response_id`, message: `response_id ${id} answers no request (the latest is ${current})` }],
            };
          if (id === 0 && current === 0) began = true;
          if (id < current) return { message: { kind: "stale", what: `response ${id}` }, findings: [] };
          const starts = utter("agent", value.content, id, value.content_complete);
          message = {
            kind: "token",
            text: value.content,
            last: value.content_complete,
            ...(starts && { newUtterance: true }),
            ...(value.no_interruption_allowed === true && { interruptible: false }),
            ...(value.end_call === true && { endCall: true }),
            ...(value.transfer_number !== undefined && { transferTo: value.transfer_number }),
          };
          break;
        }
        case "agent_interrupt":
          const starts = utter("agent", value.content, -1 - value.interrupt_id, value.content_complete);
          message = {
            kind: "token",
            text: value.content,
            last: value.content_complete,
            ...(starts && { newUtterance: true }),
            ...(value.no_interruption_allowed === true && { interruptible: false }),
            ...(value.end_call === true && { endCall: true }),
          };
          break;
        case "tool_call_invocation":
          message = { kind: "tool-call", id: value.tool_call_id, name: value.name, arguments: value.arguments };
          break;
        case "tool_call_result":
          message = { kind: "tool-result", id: value.tool_call_id, content: value.content };
          break;
        default:
          break;
      }
      return { message, findings: [] };
    },
  };
}

function parseCall(json: string | undefined, callId: string): Record<string, unknown> {
  try {
    const value: unknown = json === undefined ? undefined : JSON.parse(json);
    if (value && typeof value === "object") return value as Record<string, unknown>;
  } catch {
    // the driver always sets it; a hand-made request may not
  }
  return { call_id: callId, call_type: "phone_call", call_status: "ongoing" };
}
