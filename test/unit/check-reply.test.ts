import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkReply, type ReplyCheckInput } from "../../src/checks/reply.js";
import { vwhPlatform } from "../../src/platforms/vwh/index.js";
import { formatProblem } from "../../src/lib/validation.js";
import { checkNative, partialMismatches } from "../../src/checks/expectations.js";

const jsonHeaders = { "content-type": "application/json; charset=utf-8" };
function check(overrides: Partial<ReplyCheckInput> & { reply?: unknown }) {
  const { reply, ...rest } = overrides;
  const result = checkReply({
    platform: vwhPlatform,
    eventType: "call.started",
    expect: undefined,
    status: 200,
    headers: jsonHeaders,
    body: Buffer.from(reply === undefined ? "" : JSON.stringify(reply)),
    latencyMs: 12,
    budgetMs: 200,
    strictLatency: false,
    ...rest,
  });
  return {
    failures: result.failures.map((finding) => formatProblem({ path: finding.path ?? "", message: finding.message })),
    warnings: result.warnings.map((finding) => finding.message),
    instructions: result.parsed?.actions,
  };
}

const speakListen = { instructions: [{ type: "speak", text: "Hello, how can I help?" }, { type: "listen" }] };

describe("checkReply", () => {
  it("passes a valid reply to an event that waits for instructions", () => {
    const result = check({ reply: speakListen });
    assert.deepEqual(result.failures, []);
    assert.deepEqual(
      result.instructions?.map((action) => action.type),
      ["speak", "listen"],
    );
  });

  it("fails a waiting event without instructions, or with a body that is not JSON", () => {
    assert.deepEqual(check({ reply: { instructions: [] } }).failures, [
      "instructions: expected at least one instruction: the platform waits after call.started",
    ]);
    assert.deepEqual(check({ status: 204 }).failures, ['body: expected {"instructions": [...]}, got an empty reply (204)']);
    assert.deepEqual(check({ headers: {}, reply: speakListen }).failures, ["content-type: expected application/json, got none"]);
    assert.deepEqual(check({ headers: { "content-type": "text/html" }, reply: speakListen }).failures, [
      'content-type: expected application/json, got "text/html"',
    ]);
    assert.match(check({ body: Buffer.from("{nope") }).failures[0]!, /^body: not valid JSON/);
  });

  it("reports schema violations and rule violations with their paths", () => {
    assert.deepEqual(check({ reply: { instructions: [{ type: "speak" }] } }).failures, ["instructions[0].text: required (a string)"]);
    assert.deepEqual(check({ reply: { instructions: [{ type: "hangup" }, { type: "speak", text: "bye" }] } }).failures, [
      "instructions[1]: unreachable: nothing may follow hangup (instructions[0])",
    ]);
  });

  it("ignores the body of ack events, unless ack_only asks", () => {
    assert.deepEqual(check({ eventType: "call.ended", status: 204, headers: {} }).failures, []);
    assert.deepEqual(check({ eventType: "call.ended", reply: "whatever" }).failures, []);
    assert.deepEqual(check({ eventType: "call.ended", reply: speakListen, expect: { ack_only: true } }).failures, [
      "instructions: expected an ack without instructions, got 2",
    ]);
  });

  it("checks the status against the expectation (default any 2xx)", () => {
    assert.deepEqual(check({ eventType: "call.ended", status: 500, headers: {} }).failures, ["expected status 2xx, got 500"]);
    assert.deepEqual(check({ eventType: "call.ended", status: 202, headers: {}, expect: { status: [200, 204] } }).failures, [
      "expected status 200 or 204, got 202",
    ]);
    assert.deepEqual(check({ eventType: "call.ended", status: 401, headers: {}, expect: { status: 401 } }).failures, []);
  });

  it("compares instructions with the expected types and partial objects", () => {
    assert.deepEqual(check({ reply: { instructions: [{ type: "speak", text: "hi" }] }, expect: { instructions: ["speak", "listen"] } }).failures, [
      "instructions: expected [speak, listen], got [speak]",
    ]);
    const expect = {
      instructions: [
        { type: "speak" as const, text: { contains: "reschedule" } },
        { type: "listen" as const, input: ["speech"] },
      ],
    };
    assert.deepEqual(
      check({
        reply: {
          instructions: [
            { type: "speak", text: "Sure" },
            { type: "listen", input: ["dtmf"] },
          ],
        },
        expect,
      }).failures,
      ['instructions[0].text: expected to contain "reschedule", got "Sure"', 'instructions[1].input: expected ["speech"], got ["dtmf"]'],
    );
    assert.deepEqual(
      check({
        reply: { instructions: [{ type: "speak", text: "Tuesday at 3 PM" }] },
        expect: { instructions: [{ type: "speak", text: { matches: "^Monday" } }] },
      }).failures,
      ['instructions[0].text: expected to match /^Monday/, got "Tuesday at 3 PM"'],
    );
    assert.deepEqual(check({ eventType: "custom.event", reply: { instructions: [] }, expect: { instructions: [] } }).failures, []);
  });

  it("warns over budget, fails with --strict-latency or over max_latency_ms", () => {
    assert.deepEqual(check({ reply: speakListen, latencyMs: 840 }).warnings, ["latency 840 ms over budget 200 ms"]);
    assert.deepEqual(check({ reply: speakListen, latencyMs: 840, strictLatency: true }).failures, ["latency 840 ms over budget 200 ms"]);
    assert.deepEqual(check({ reply: speakListen, latencyMs: 840, expect: { max_latency_ms: 800 } }).failures, ["latency 840 ms over max_latency_ms 800 ms"]);
    assert.deepEqual(check({ reply: speakListen, latencyMs: 150 }).warnings, []);
  });
});

describe("native expectations over XML attributes", () => {
  it("compare attribute text with a number or a boolean by value, and say so when they differ", () => {
    const document = { select: (path: string) => (path === "Response/Gather@numDigits" ? ["5"] : path === "Response/Gather@speechModel" ? ["true"] : []) };
    assert.deepEqual(
      checkNative(
        [
          { path: "Response/Gather@numDigits", equals: 5 },
          { path: "Response/Gather@speechModel", equals: true },
        ],
        [document],
      ),
      [],
    );
    assert.deepEqual(checkNative([{ path: "Response/Gather@numDigits", equals: 6 }], [document]), [
      { kind: "expect", path: "Response/Gather@numDigits", message: 'expected 6, got "5" (attribute text compared with a number by value)' },
    ]);
    assert.deepEqual(checkNative([{ path: "Response/Gather@numDigits", equals: "5" }], [document]), [], "text still compares as text");
  });
});

describe("partial expectations", () => {
  it("name the full path of every differing leaf, whole values cut nowhere", () => {
    const actual = { reservation: { status: "pending", guest: { name: "Ann", party: 2 } }, log: "x".repeat(500) };
    assert.deepEqual(partialMismatches({ reservation: { status: "confirmed", guest: { party: 3 } }, missing: 1 }, actual, "result"), [
      { kind: "expect", path: "result.reservation.status", message: 'expected "confirmed", got "pending"' },
      { kind: "expect", path: "result.reservation.guest.party", message: "expected 3, got 2" },
      { kind: "expect", path: "result.missing", message: "expected 1, got nothing" },
    ]);
    assert.deepEqual(
      partialMismatches({ reservation: { guest: { name: { contains: "An" } } } }, JSON.stringify(actual), "result"),
      [],
      "JSON text is read as its value",
    );
  });
});
