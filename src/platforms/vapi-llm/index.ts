/**
 * Vapi's custom LLM (issue 28): the assistant's model is the server under test, an OpenAI-compatible
 * `POST <url>/chat/completions` answered with server-sent events. Caller scripts only: each utterance is
 * one request with the conversation so far.
 */
import * as z from "zod";
import type { Platform } from "../types.js";
import { VapiLlmCallDriver } from "./driver.js";
import { vapiLlmSettings, vapiLlmSettingsSchema } from "./settings.js";

const script = (name: string, description: string, steps: unknown[]) => (call: { from: string; to: string }) => ({ version: 1, platform: "vapi-llm", name, description, call, script: steps });

export const vapiLlmPlatform = {
  id: "vapi-llm",
  summary: "Vapi's custom LLM: POST <url>/chat/completions (OpenAI format, stream: true) answered with server-sent events",
  scheme: "vapi",
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
  parseReply: () => ({ native: undefined, actions: [], failures: [], warnings: [] }),

  async startCall(setup) {
    return new VapiLlmCallDriver(setup);
  },

  identify: () => ({ eventType: undefined, callId: undefined, eventId: undefined }),
  redaction: { phone: ["number"], text: ["content", "arguments"] },
  starters: [
    {
      id: "custom-llm",
      title: "Custom LLM (chat completions stream)",
      flow: script("Custom LLM", "Each utterance is a chat/completions request with stream: true; the server streams chat.completion.chunk events and ends with [DONE].", [
        {},
        { say: "Hi, I'd like to book a table for two.", expect: { says: { matches: "\\w" }, first_audio_ms: 2000 } },
        { hangup: true, expect: { ends: "caller_hangup" } },
      ]),
    },
  ],
  media: { "vapi-llm": () => import("./session.js") },
  examplePath: "/v1",
} satisfies Platform;
