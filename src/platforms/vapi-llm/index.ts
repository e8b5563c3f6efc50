/**
 * Vapi's custom LLM (issue 28): the assistant's model is the server under test, an OpenAI-compatible
 * `POST <url>/chat/completions` answered with server-sent events. Caller scripts only: each utterance is
 * one request with the conversation so far.
 */
import * as z from "zod";
import type { Platform } from "../types.js";
import { VapiLlmCallDriver } from "./driver.js";
import { parseVapiLlmReply } from "./reply.js";
import { vapiLlmStarters } from "./starters.js";
import { vapiLlmSettings, vapiLlmSettingsSchema } from "./settings.js";

export const vapiLlmPlatform = {
  id: "vapi-llm",
  summary: "Vapi's custom LLM: POST <url>/chat/completions (OpenAI format, stream: true) answered with server-sent events",
  // A custom-llm credential's apiKey reaches the server as Authorization: Bearer (docs.vapi.ai whats-new 2025-07-18).
  scheme: "bearer",
  profile: undefined,
  events: {},
  eventType: z.string().refine(() => false, { error: "vapi-llm plays caller scripts (script), not scripted events" }),
  actions: ["speak", "transfer", "tool_result"],
  callerInputs: ["connect", "say", "interrupt", "silence", "hangup"],
  settings: vapiLlmSettingsSchema,
  describeSettings: (settings) => `vapi-llm: metadataSendMode ${vapiLlmSettings(settings).metadataSendMode}`,

  encode() {
    throw new Error("vapi-llm has no scripted events (the flow validation refuses them)");
  },
  parseReply: parseVapiLlmReply,

  async startCall(setup) {
    return new VapiLlmCallDriver(setup);
  },

  identify: () => ({ eventType: undefined, callId: undefined, eventId: undefined }),
  redaction: { phone: ["number"], text: ["content", "arguments"] },
  starters: vapiLlmStarters,
  media: { "vapi-llm": () => import("./session.js") },
  examplePath: "/v1",
} satisfies Platform;
