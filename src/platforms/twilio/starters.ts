/**
 * Caller scripts `vwh init --platform twilio` writes: an IVR's usual situations, with expectations any
 * well-behaved Twilio handler meets (normalised actions and how the call ends, not wording).
 */
import type { StarterScenario } from "../types.js";

const greeting = { expect: { actions: [{ type: "listen" }], ends: false } };

export const scenarios: readonly StarterScenario[] = [
  {
    id: "twilio-menu",
    title: "Keypad menu (Gather dtmf)",
    flow: (call) => ({
      version: 1,
      platform: "twilio",
      name: "Keypad menu",
      description: "The caller presses a key at the menu: the handler's Gather action answers with more TwiML.",
      call,
      script: [{ expect: { ends: false } }, { press: "1", expect: { ends: false } }, { hangup: true }],
    }),
  },
  {
    id: "twilio-speech",
    title: "Speech input (Gather speech)",
    flow: (call) => ({
      version: 1,
      platform: "twilio",
      name: "Speech input",
      description: "The caller says what they want: SpeechResult and Confidence go to the Gather action.",
      call,
      script: [greeting, { say: "I would like to speak to someone about my bill", expect: { ends: false } }, { hangup: true }],
    }),
  },
  {
    id: "twilio-no-input",
    title: "No input (Gather timeout)",
    flow: (call) => ({
      version: 1,
      platform: "twilio",
      name: "No input",
      description: "The caller says nothing: the Gather times out and the handler must not leave them in silence.",
      call,
      script: [greeting, { silence_ms: 6000, expect: { actions: [{ type: "speak" }] } }, { hangup: true }],
    }),
  },
];
