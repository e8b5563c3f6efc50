/**
 * Caller scripts `vwh init --platform telnyx` writes: a keypad menu driven by Call Control commands.
 * Expectations name normalised actions (speak, listen, transfer, hangup), not wording, so they fit any agent.
 */
import type { StarterScenario } from "../types.js";

const menu = { expect: { actions: ["speak", "listen"], ends: false } };

export const scenarios: readonly StarterScenario[] = [
  {
    id: "menu-operator",
    title: "Keypad menu to an operator (answer, gather_using_speak, transfer)",
    flow: (call) => ({
      version: 1,
      platform: "telnyx",
      name: "Keypad menu to an operator",
      description: "The handler answers, gathers a digit with gather_using_speak, and transfers on 0.",
      call,
      script: [menu, { press: "0", expect: { actions: ["speak", "transfer"], ends: "transferred" } }],
    }),
  },
  {
    id: "menu-goodbye",
    title: "Keypad menu, then goodbye (speak, hangup)",
    flow: (call) => ({
      version: 1,
      platform: "telnyx",
      name: "Keypad menu, then goodbye",
      description: "The caller picks an option; the handler speaks and hangs up.",
      call,
      script: [menu, { press: "1", expect: { actions: ["speak", "hangup"], ends: "handler_hangup" } }],
    }),
  },
  {
    id: "no-input",
    title: "No keys pressed (the gather times out, the handler reprompts)",
    flow: (call) => ({
      version: 1,
      platform: "telnyx",
      name: "No keys pressed",
      description: "The gather times out: the handler asks again instead of hanging up.",
      call,
      script: [menu, { silence_ms: 8000, expect: { actions: ["speak", "listen"], ends: false } }],
    }),
  },
  {
    id: "early-hangup",
    title: "Caller hangs up during the menu",
    flow: (call) => ({
      version: 1,
      platform: "telnyx",
      name: "Caller hangs up during the menu",
      description: "The caller hangs up while the menu plays: the handler must not command the ended call.",
      call,
      script: [menu, { hangup: true, expect: { ends: "caller_hangup" } }],
    }),
  },
];
