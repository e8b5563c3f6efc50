/** Caller scripts `vwh init --platform plivo` writes: expectations on the call and the XML, not wording. */
import type { StarterScenario } from "../types.js";

export const plivoStarters: readonly StarterScenario[] = [
  {
    id: "plivo-menu",
    title: "Plivo: keypad menu",
    flow: (call) => ({
      version: 1,
      platform: "plivo",
      name: "Plivo: keypad menu",
      description: "The answer XML offers a GetInput menu; the caller presses a key; the action URL's XML takes over.",
      call,
      script: [{ expect: { ends: false, listens_for: "dtmf" } }, { press: "1", expect: { ends: false } }, { hangup: true }],
    }),
  },
  {
    id: "plivo-speech",
    title: "Plivo: speech input",
    flow: (call) => ({
      version: 1,
      platform: "plivo",
      name: "Plivo: speech input",
      description: "The caller speaks to GetInput; silence moves on to the element after it.",
      call,
      script: [{ expect: { ends: false, listens_for: "speech" } }, { say: "I would like to book an appointment", expect: { ends: false } }, { hangup: true }],
    }),
  },
];
