/** The starter scenario `vwh init --platform vapi-llm` writes: a caller script against a custom-LLM server. */
import type { StarterScenario } from "../types.js";

const script = (name: string, description: string, steps: unknown[]) => (call: { from: string; to: string }) => ({
  version: 1,
  platform: "vapi-llm",
  name,
  description,
  call,
  script: steps,
});

export const vapiLlmStarters: readonly StarterScenario[] = [
  {
    id: "custom-llm",
    title: "Custom LLM (chat completions stream)",
    flow: script(
      "Custom LLM",
      "Each utterance is a chat/completions request with stream: true; the server streams chat.completion.chunk events and ends with [DONE].",
      [
        {},
        { say: "Hi, I'd like to book a table for two.", expect: { says: { matches: "\\w" }, first_audio_ms: 2000 } },
        { hangup: true, expect: { ends: "caller_hangup" } },
      ],
    ),
  },
];
