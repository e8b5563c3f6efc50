/** Caller scripts `vwh init --platform vonage` writes: expectations on normalised actions, not wording. */
import type { StarterScenario } from "../types.js";

export const vonageStarters: readonly StarterScenario[] = [
  {
    id: "vonage-menu",
    title: "Vonage: keypad menu",
    flow: (call) => ({
      version: 1,
      platform: "vonage",
      name: "Vonage: keypad menu",
      description: "The answer NCCO offers a menu; the caller presses a key and is connected onward.",
      call,
      script: [{ expect: { actions: ["speak", "listen"], ends: false } }, { press: "1", expect: { actions: [{ type: "speak" }, "listen"] } }, { hangup: true }],
    }),
  },
  {
    id: "vonage-speech",
    title: "Vonage: speech input",
    flow: (call) => ({
      version: 1,
      platform: "vonage",
      name: "Vonage: speech input",
      description: "The caller speaks to the input action; the handler answers from the speech results.",
      call,
      script: [
        { expect: { actions: ["speak", "listen"] } },
        { say: "I would like to book an appointment", expect: { actions: ["speak", "listen"] } },
        { silence_ms: 8000, expect: { actions: ["speak", "listen"] } },
        { hangup: true },
      ],
    }),
  },
];
