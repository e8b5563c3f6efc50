/**
 * Caller scripts `vwh init --platform twilio` writes: an IVR's usual situations, with expectations any
 * well-behaved Twilio handler meets (what it listens for and whether the call goes on, not wording).
 */
import type { StarterScenario } from "../types.js";

const listensFor = (input: string) => ({ expect: { ends: false, native: [{ path: "Response/Gather@input", matches: input }] } });

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
      script: [listensFor("dtmf"), { press: "1", expect: { ends: false } }, { hangup: true }],
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
      script: [listensFor("speech"), { say: "I would like to book an appointment", expect: { ends: false } }, { hangup: true }],
    }),
  },
  {
    id: "twilio-no-input",
    title: "No input (Gather timeout)",
    flow: (call) => ({
      version: 1,
      platform: "twilio",
      name: "No input",
      description: "The caller says nothing: the Gather times out and the handler must not leave them in silence or hang up at once.",
      call,
      script: [{ expect: { ends: false } }, { silence_ms: 6000, expect: { ends: false, says: { matches: "\\w" } } }, { hangup: true }],
    }),
  },
];
