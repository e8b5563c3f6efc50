/** Caller scripts `vwh init --platform retell` writes. */
import type { StarterScenario } from "../types.js";

const script = (name: string, description: string, steps: unknown[]) => (call: { from: string; to: string }) => ({
  version: 1,
  platform: "retell",
  name,
  description,
  call,
  script: steps,
});

export const retellStarters: readonly StarterScenario[] = [
  {
    id: "inbound-overrides",
    title: "Inbound call webhook",
    flow: script("Inbound call webhook", "The number's inbound webhook answers within 10 s with valid overrides (no unknown fields).", [
      { expect: { max_latency_ms: 10000 } },
      { say: "Hi, I'm calling about my order." },
      { hangup: true, expect: { ends: "caller_hangup" } },
    ]),
  },
  {
    id: "custom-function",
    title: "Custom function",
    flow: script("Custom function", "The agent calls the server's custom function with the live call and its arguments.", [
      {},
      { say: "Where is my order 4417?" },
      { tool: { name: "lookup_order", arguments: { order_id: "4417" } }, expect: { actions: ["tool_result"] } },
      { hangup: true },
    ]),
  },
];
