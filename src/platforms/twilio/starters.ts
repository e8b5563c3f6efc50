/**
 * Caller scripts `vwh init --platform twilio` writes: an IVR's usual situations, with expectations any
 * well-behaved Twilio handler meets (what it listens for and whether the call goes on, not wording).
 */
import type { StarterScenario } from "../types.js";

// Normalised, not native: a <Gather> without `input` listens for dtmf (Twilio's default), which a native
// check of Gather@input would miss.
const listensFor = (input: "dtmf" | "speech") => ({ expect: { ends: false, listens_for: input } });

function starter(id: string, title: string, name: string, description: string, script: unknown[]): StarterScenario {
  return { id, title, flow: (call) => ({ version: 1, platform: "twilio", name, description, call, script }) };
}

export const scenarios: readonly StarterScenario[] = [
  starter(
    "twilio-menu",
    "Keypad menu (Gather dtmf)",
    "Keypad menu",
    "The caller presses a key at the menu: the handler's Gather action answers with more TwiML.",
    [listensFor("dtmf"), { press: "1", expect: { ends: false } }, { hangup: true }],
  ),
  starter(
    "twilio-speech",
    "Speech input (Gather speech)",
    "Speech input",
    "The caller says what they want: SpeechResult and Confidence go to the Gather action.",
    [listensFor("speech"), { say: "I would like to book an appointment", expect: { ends: false } }, { hangup: true }],
  ),
  starter(
    "twilio-no-input",
    "No input (Gather timeout)",
    "No input",
    "The caller says nothing: the Gather times out and the handler must not leave them in silence or hang up at once.",
    [{ expect: { ends: false } }, { silence_ms: 6000, expect: { ends: false, says: { matches: "\\w" } } }, { hangup: true }],
  ),
];
