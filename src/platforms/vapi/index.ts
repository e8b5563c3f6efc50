/** Vapi (docs/platforms/vapi.md, README: Platforms and caller scripts): `{"message":{type,…}}` server messages, replies checked per type. */
import * as z from "zod";
import type { EventSpec, Platform } from "../types.js";
import { VapiCallDriver, waitsForReply } from "./driver.js";
import { grammar, messageSpec } from "./grammar.js";
import { identifyVapi } from "./identity.js";
import { messageBody, newVapiCall } from "./messages.js";
import { parseVapiReply } from "./reply.js";
import { describeVapiSettings, vapiSettingsSchema } from "./settings.js";
import { uuidCallId } from "../../core/ids.js";
import { vapiStarters } from "./starters.js";

/** Vapi gives the server 7.5 s to answer an assistant-request, end to end, and it is not configurable. */
export const assistantRequestDeadlineMs = 7500;

const descriptions: Record<string, string> = {
  "assistant-request": "an inbound call to a number without an assistant: reply with the assistant to use (7.5 s)",
  "tool-calls": "the assistant calls the server's tools: reply {results:[{toolCallId, result}]}",
  "transfer-destination-request": "the transferCall tool needs a destination: reply {destination}",
  "knowledge-base-request": "a custom knowledge base: reply {documents}",
  "status-update": "the call's status changed",
  "end-of-call-report": "the call ended: transcript, analysis, cost",
  "conversation-update": "the conversation so far",
  transcript: "a partial or final transcript of one speaker",
  "speech-update": "a speaker started or stopped talking",
  hang: "the assistant is slow to answer",
  "user-interrupted": "the caller talked over the assistant",
};

/** Each message's payload: enum-valued fields checked against the SDK's values, everything else free. */
function payloadSchema(type: string): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [field, spec] of Object.entries(grammar.messages[type]?.fields ?? {})) {
    if (field !== "type" && spec.values && spec.values.length > 0) shape[field] = z.enum(spec.values as [string, ...string[]]).optional();
  }
  return z.looseObject(shape);
}

const events: Record<string, EventSpec> = Object.fromEntries(
  Object.entries(grammar.messages).map(([type, spec]) => [
    type,
    {
      payload: payloadSchema(type),
      waits: waitsForReply(type, spec.reply !== undefined),
      description: descriptions[type] ?? `${spec.interface} (${grammar.sdk.name} ${grammar.sdk.version})`,
      ...(type === "assistant-request" && { deadlineMs: assistantRequestDeadlineMs }),
      // Informational messages: Vapi takes any 2xx and goes on whatever the reply.
      ...(!waitsForReply(type, spec.reply !== undefined) && { replyIgnored: { setting: "the assistant's server.url (vwh: --url)" } }),
    },
  ]),
);

const messageTypes = Object.keys(grammar.messages);

export const vapiPlatform = {
  id: "vapi",
  summary: `Vapi server messages {message:{type,…}} (${grammar.sdk.name} ${grammar.sdk.version})`,
  scheme: "vapi",
  profile: "vapi",
  events,
  eventType: z.string().refine((type) => messageSpec(type) !== undefined, { error: `expected a Vapi message type (${messageTypes.slice(0, 6).join(", ")} …)` }),
  actions: ["assistant", "tool_result", "transfer", "speak", "reject"],
  callerInputs: ["connect", "say", "interrupt", "silence", "hangup", "tool", "event"],
  settings: vapiSettingsSchema,
  nativeCallId: uuidCallId,
  describeSettings: describeVapiSettings,

  encode(event) {
    const { callId, from, to, direction } = event.call;
    const call = newVapiCall(callId, from, to, direction, event.timestamp, undefined);
    const state =
      event.eventType === "end-of-call-report"
        ? { status: "ended" as const, startedAt: event.timestamp }
        : { status: "in-progress" as const, startedAt: event.timestamp };
    const body = messageBody(call, state, event.eventType, event.payload, event.timestamp, []);
    return { method: "POST", url: event.url, body, contentType: "application/json", headers: {} };
  },

  parseReply: parseVapiReply,

  async startCall(setup) {
    return new VapiCallDriver(setup);
  },

  identify: (request) => identifyVapi(request.body),

  redaction: {
    phone: ["number", "twilioPhoneNumber", "sipUri"],
    text: ["transcript", "message", "content", "originalTranscript", "summary", "arguments", "parameters"],
  },
  handlerSecret: { env: "VAPI_SECRET", readBy: "examples/vapi-handler.js (@vapi-ai/server-sdk reads no variable for it)" },
  schemes: ["vapi", "bearer", "hmac"],
  starters: vapiStarters,
  examplePath: "/vapi/server",
  secretName: "the secret of your Vapi server URL",
} satisfies Platform;
