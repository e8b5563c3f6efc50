/**
 * The starter call flows `vwh init` writes: common voice-agent situations, each with expectations a
 * well-behaved handler meets (instruction types, not wording, so they fit any agent).
 */
import type { StarterScenario } from "../types.js";

const greeting = { event_type: "call.started", payload: { direction: "inbound" }, expect: { instructions: ["speak", "listen"] } };
const heard = (text: string, afterMs: number, confidence = 0.92) => ({
  event_type: "speech.transcribed",
  after_ms: afterMs,
  payload: { text, confidence, is_final: true },
});

export const scenarios: readonly StarterScenario[] = [
  {
    id: "inbound-speech",
    title: "Inbound call with speech",
    flow: (call) => ({
      version: 1,
      name: "Inbound call with speech",
      description: "The caller asks for something; the agent answers and keeps listening.",
      call,
      events: [
        greeting,
        { event_type: "speech.detected", after_ms: 2500 },
        { event_type: "speech.ended", after_ms: 1800, payload: { duration_ms: 1800 } },
        { ...heard("I want to reschedule my appointment", 250), expect: { instructions: ["speak", "listen"], max_latency_ms: 1000 } },
        { event_type: "call.ended", after_ms: 6000, payload: { reason: "caller_hangup", duration_s: 14 }, expect: { ack_only: true } },
      ],
    }),
  },
  {
    id: "dtmf-menu",
    title: "DTMF menu",
    flow: (call) => ({
      version: 1,
      name: "DTMF menu",
      description: "The caller navigates a keypad menu.",
      call: { ...call, to: "+15550100300" },
      events: [
        greeting,
        { event_type: "dtmf.received", after_ms: 4000, payload: { digits: "1" }, expect: { instructions: ["speak", "listen"] } },
        { event_type: "call.ended", after_ms: 5000, payload: { reason: "caller_hangup", duration_s: 10 } },
      ],
    }),
  },
  {
    id: "barge-in",
    title: "Caller barges in",
    flow: (call) => ({
      version: 1,
      name: "Caller barges in",
      description: "The caller talks over the greeting: playback is interrupted and the agent must listen.",
      call,
      events: [
        greeting,
        { event_type: "speech.detected", after_ms: 800 },
        {
          event_type: "playback.finished",
          after_ms: 40,
          payload: { instruction_index: 0, interrupted: true },
          expect: { instructions: ["listen"], max_latency_ms: 500 },
        },
        { event_type: "call.ended", after_ms: 3000, payload: { reason: "caller_hangup", duration_s: 4 } },
      ],
    }),
  },
  {
    id: "early-hangup",
    title: "Caller hangs up early",
    flow: (call) => ({
      version: 1,
      name: "Caller hangs up early",
      description: "The caller hangs up during the greeting: the handler must ack and not try to speak.",
      call,
      events: [greeting, { event_type: "call.ended", after_ms: 700, payload: { reason: "caller_hangup", duration_s: 1 }, expect: { ack_only: true } }],
    }),
  },
  {
    id: "no-input",
    title: "Silence / no input",
    flow: (call) => ({
      version: 1,
      name: "Silence / no input",
      description: "Nothing usable is heard: the agent reprompts instead of hanging up.",
      call,
      events: [
        greeting,
        { ...heard("", 8000, 0), expect: { instructions: ["speak", "listen"] } },
        { event_type: "call.ended", after_ms: 9000, payload: { reason: "timeout", duration_s: 20 } },
      ],
    }),
  },
  {
    id: "transfer",
    title: "Transfer to a human",
    flow: (call) => ({
      version: 1,
      name: "Transfer to a human",
      description: "The caller asks for a person: the agent says so and transfers.",
      call,
      events: [
        greeting,
        { ...heard("Can I talk to a person please", 3000), expect: { instructions: ["speak", "transfer"] } },
        { event_type: "call.ended", after_ms: 1500, payload: { reason: "transferred", duration_s: 8 } },
      ],
    }),
  },
];
