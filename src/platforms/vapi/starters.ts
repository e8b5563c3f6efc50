/** Caller scripts `vwh init --platform vapi` writes: what every Vapi server must get right. */
import type { StarterScenario } from "../types.js";

const script = (name: string, description: string, steps: unknown[], settings?: Record<string, unknown>) => (call: { from: string; to: string }) => ({
  version: 1,
  platform: "vapi",
  name,
  description,
  call,
  ...(settings && { settings }),
  script: steps,
});

export const vapiStarters: readonly StarterScenario[] = [
  {
    id: "tool-call",
    title: "Tool call",
    flow: script("Tool call", "The caller asks for something the assistant looks up with the server's tool: one result per toolCallId.", [
      {},
      { say: "Can you check if you have anything free on Tuesday afternoon?" },
      { tool: { name: "check_availability", arguments: { day: "tuesday", period: "afternoon" } }, expect: { actions: ["tool_result"] } },
      { hangup: true, expect: { ends: "caller_hangup" } },
    ]),
  },
  {
    id: "assistant-request",
    title: "Assistant request",
    flow: script(
      "Assistant request",
      "The number has no assistant: the server must name one within Vapi's fixed 7.5 s.",
      [{ expect: { actions: [{ type: "assistant" }] } }, { say: "Hi, I have a question about my bill." }, { hangup: true }],
      { vapi_assistant_request: true },
    ),
  },
  {
    id: "transfer",
    title: "Transfer to a human",
    flow: script("Transfer to a human", "The assistant's transferCall tool asks the server where to send the call.", [
      {},
      { say: "I'd like to talk to a person please." },
      // A transfer, whatever the server says first (a destination's message is spoken before it).
      { tool: { name: "transferCall", arguments: {} }, expect: { ends: "transferred" } },
    ]),
  },
  {
    id: "silence",
    title: "Caller goes silent",
    flow: script("Caller goes silent", "Nobody speaks for longer than the silence timeout: the call ends with silence-timed-out.", [
      {},
      { silence_ms: 31000, expect: { ends: "timeout" } },
    ]),
  },
];
