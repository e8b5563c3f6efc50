import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkInstructionRules, instructionReplySchema, type Instruction } from "../../src/platforms/vwh/grammar.js";
import { issuesToProblems, formatProblem } from "../../src/lib/validation.js";

function problems(body: unknown): string[] {
  const result = instructionReplySchema.safeParse(body, { reportInput: true });
  return result.success ? [] : issuesToProblems(result.error).map(formatProblem);
}

describe("instruction schema (SPEC §2)", () => {
  it("accepts every instruction type with its fields", () => {
    const reply = {
      instructions: [
        { type: "speak", text: "Hello", voice: "ava", language: "en-US", barge_in: true },
        { type: "play", url: "https://cdn.example.com/hold.mp3", loop: 2 },
        { type: "listen", input: ["speech", "dtmf"], timeout_ms: 5000, end_of_speech_ms: 800, max_digits: 4, language: "es-MX", hints: ["billing"] },
        { type: "stream", url: "wss://agent.example.com/audio", track: "both", bidirectional: true, chunk_ms: 40 },
        { type: "record", max_duration_s: 60, silence_timeout_s: 5, beep: true },
        { type: "pause", duration_ms: 500 },
        { type: "transfer", to: "sip:frontdesk@pbx.example.com", caller_id: "+15550100002", timeout_s: 30 },
      ],
    };
    assert.deepEqual(problems(reply), []);
    assert.deepEqual(problems({ instructions: [{ type: "redirect", url: "https://example.com/next" }] }), []);
    assert.deepEqual(problems({ instructions: [{ type: "hangup", reason: "done" }] }), []);
  });

  it("names the path and the expectation of each violation", () => {
    assert.deepEqual(problems({ instructions: [{ type: "speak" }] }), ["instructions[0].text: required (a string)"]);
    assert.deepEqual(problems({ instructions: [{ type: "spek", text: "hi" }] }), [
      'instructions[0].type: unknown type "spek" (expected one of speak, play, listen, stream, transfer, record, pause, redirect, hangup)',
    ]);
    assert.deepEqual(problems({ instructions: [{ type: "speak", text: "" }] }), ['instructions[0].text: expected length >= 1, got ""']);
    assert.deepEqual(problems({ instructions: [{ type: "speak", text: "x".repeat(3001) }] }), ["instructions[0].text: expected length <= 3000"]);
    assert.deepEqual(problems({ instructions: [{ type: "speak", text: "hi", bargein: true }] }), ['instructions[0]: unknown field "bargein"']);
    assert.deepEqual(problems({ instructions: [{ type: "play", url: "ftp://x/y.mp3" }] }), [
      'instructions[0].url: expected an http(s) URL, got "ftp://x/y.mp3"',
    ]);
    assert.deepEqual(problems({ instructions: [{ type: "stream", url: "https://x" }] }), ['instructions[0].url: expected a ws(s) URL, got "https://x"']);
    assert.deepEqual(problems({ instructions: [{ type: "stream", url: "wss://x", chunk_ms: 30 }] }), [
      "instructions[0].chunk_ms: expected a multiple of 20, got 30",
    ]);
    assert.deepEqual(problems({ instructions: [{ type: "transfer", to: "555-1234" }] }), [
      "instructions[0].to: expected an E.164 number like +15550100001 or a sip: URI",
    ]);
    assert.deepEqual(problems({ instructions: [{ type: "pause" }] }), ["instructions[0].duration_ms: required (a number)"]);
    assert.deepEqual(problems({ instructions: [{ type: "listen", input: ["voice"] }] }), [
      'instructions[0].input[0]: expected one of "speech", "dtmf", got "voice"',
    ]);
    assert.deepEqual(problems({ instructions: "speak" }), ['instructions: expected a list, got "speak"']);
    assert.deepEqual(problems({}), ["instructions: required (a list)"]);
  });
});

describe("instruction rules", () => {
  const rules = (list: Instruction[]) => checkInstructionRules(list).map(formatProblem);

  it("flags anything after hangup, transfer or redirect as unreachable", () => {
    assert.deepEqual(rules([{ type: "hangup" }, { type: "speak", text: "bye" }]), [
      "instructions[1]: unreachable: nothing may follow hangup (instructions[0])",
    ]);
    assert.deepEqual(rules([{ type: "speak", text: "hi" }, { type: "transfer", to: "+15550100999" }, { type: "listen" }]), [
      "instructions[2]: unreachable: nothing may follow transfer (instructions[1])",
    ]);
    assert.deepEqual(
      rules([
        { type: "speak", text: "hi" },
        { type: "redirect", url: "https://x.example" },
      ]),
      [],
    );
  });

  it("requires a listen after a barge-in speak or play", () => {
    assert.deepEqual(rules([{ type: "speak", text: "hi", barge_in: true }]), ["instructions[0].barge_in: barge_in speak must be followed by a listen"]);
    assert.deepEqual(rules([{ type: "play", url: "https://x/a.mp3", barge_in: true }, { type: "hangup" }]), [
      "instructions[0].barge_in: barge_in play must be followed by a listen",
    ]);
    assert.deepEqual(rules([{ type: "speak", text: "hi", barge_in: true }, { type: "pause", duration_ms: 100 }, { type: "listen" }]), []);
  });
});
