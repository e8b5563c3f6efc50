/**
 * The failing case of every verdict (issue 30): each expectation key given nothing to match (absent),
 * the wrong thing and the right thing, and not given at all — in process, through the functions that
 * decide: checkReply (per webhook: status, redirects, actions, native, latency), checkTurn (per turn of a
 * caller script: actions, says, ends, transfers_to, result, native) and checkMedia (first_audio_ms,
 * stops_on_interrupt). A check that passes what it should fail is a wrong verdict a user would ship on.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkNative, compareActions, isMatcher, valueMismatch } from "../../src/checks/expectations.js";
import { matchText, patternProblem } from "../../src/checks/matchers.js";
import { describeStatus, latencyFindings, statusMatches } from "../../src/checks/reply.js";
import { checkTurn } from "../../src/engine/script-call.js";
import { checkMedia, type TurnMedia } from "../../src/media/script.js";
import type { Action, NativeDocument } from "../../src/platforms/types.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { vapiPlatform } from "../../src/platforms/vapi/index.js";
import { expectFindings, reply, shown, speak, speakListen, turn, verdict, type Expect } from "../verdict-helpers.js";

const listen = (at = 1): Action => ({ type: "listen", path: `instructions[${at}]` });
const transfer = (to: unknown, at = 0): Action => ({ type: "transfer", path: `instructions[${at}]`, ...(to !== undefined && { to }) });
const toolResult = (result: unknown, at = 0): Action => ({ type: "tool_result", path: `results[${at}]`, result });

/** A native document as the vwh platform reads it from a real reply. */
const nativeOf = (json: unknown): NativeDocument => reply({ json, expect: { native: [{ path: "instructions", contains: "" }] } }).parsed!.native!;

describe("matchers: contains, matches, literals", () => {
  it("contains is case-sensitive and needs text", () => {
    assert.equal(matchText({ contains: "Hello" }, "Hello, how can I help?"), undefined);
    assert.equal(matchText({ contains: "hello" }, "Hello, how can I help?"), 'expected to contain "hello", got "Hello, how can I help?"');
    assert.equal(matchText({ contains: "HELP" }, "help"), 'expected to contain "HELP", got "help"');
    assert.equal(matchText({ contains: "" }, ""), undefined);
    assert.equal(matchText({ contains: "1" }, 1), "expected text, got 1");
    assert.equal(matchText({ contains: "x" }, undefined), "expected text, got nothing");
  });

  it("matches finds the pattern anywhere unless anchored, case-sensitively, in linear time", () => {
    assert.equal(matchText({ matches: "how can" }, "Hello, how can I help?"), undefined);
    assert.equal(matchText({ matches: "^how" }, "Hello, how can I help?"), 'expected to match /^how/, got "Hello, how can I help?"');
    assert.equal(matchText({ matches: "HELLO" }, "Hello"), 'expected to match /HELLO/, got "Hello"');
    assert.equal(matchText({ matches: "(?i)HELLO" }, "Hello"), undefined);
    assert.equal(matchText({ matches: "." }, ""), 'expected to match /./, got ""');
    assert.equal(matchText({ matches: "x" }, null), "expected text, got null");
    assert.match(matchText({ matches: "(a)\\1" }, "aa")!, /^the regular expression \/\(a\)\\1\/ is not usable: /);
    assert.match(patternProblem("(?=x)")!, /^expected a regular expression RE2 can run in linear time \(/);
    assert.equal(patternProblem("^(.+)+!$"), undefined);
  });

  it("a matcher is an object with exactly one of contains / matches; anything else is a literal compared deeply", () => {
    assert.equal(isMatcher({ contains: "a" }), true);
    assert.equal(isMatcher({ matches: "a" }), true);
    for (const value of [{ contains: "a", matches: "b" }, { other: "a" }, {}, ["contains"], null, "contains", undefined])
      assert.equal(isMatcher(value), false, JSON.stringify(value));
    assert.equal(valueMismatch("1", 1), 'expected "1", got 1');
    assert.equal(valueMismatch({ a: [1, 2] }, { a: [1, 2] }), undefined);
    assert.notEqual(valueMismatch({ a: [1, 2] }, { a: [2, 1] }), undefined);
    assert.equal(valueMismatch({ contains: "b" }, "abc"), undefined);
  });
});

describe("actions (flow events and caller-script turns)", () => {
  it("not expected: any actions pass", () => {
    assert.deepEqual(verdict({}, { actions: [speak("anything"), listen()] }), []);
  });

  it("expected but absent, wrong, in the wrong order, one too many or too few: each fails", () => {
    assert.deepEqual(verdict({ actions: ["speak"] }), ["actions: expected [speak], got []"]);
    assert.deepEqual(verdict({ actions: ["listen"] }, { actions: [speak("hi")] }), ["actions: expected [listen], got [speak]"]);
    assert.deepEqual(verdict({ actions: ["speak", "listen"] }, { actions: [listen(0), speak("hi", 1)] }), [
      "actions: expected [speak, listen], got [listen, speak]",
    ]);
    assert.deepEqual(verdict({ actions: ["speak"] }, { actions: [speak("hi"), listen()] }), ["actions: expected [speak], got [speak, listen]"]);
    assert.deepEqual(verdict({ actions: ["speak", "listen"] }, { actions: [speak("hi")] }), ["actions: expected [speak, listen], got [speak]"]);
    assert.deepEqual(verdict({ actions: [] }, { actions: [speak("hi")] }), ["actions: expected [], got [speak]"]);
  });

  it("a partial action's fields: absent, wrong or failing their matcher each fail, at the action's path", () => {
    assert.deepEqual(verdict({ actions: [{ type: "transfer", to: "+15550100002" }] }, { actions: [transfer(undefined)] }), [
      'instructions[0].to: expected "+15550100002", got nothing',
    ]);
    assert.deepEqual(verdict({ actions: [{ type: "speak", text: "Hello" }] }, { actions: [speak("hello")] }), [
      'instructions[0].text: expected "Hello", got "hello"',
    ]);
    assert.deepEqual(verdict({ actions: ["speak", { type: "listen", timeout_s: 5 }] }, { actions: [speak("a"), { ...listen(), timeout_s: 6 }] }), [
      "instructions[1].timeout_s: expected 5, got 6",
    ]);
    assert.deepEqual(verdict({ actions: [{ type: "speak", text: { contains: "help" } }] }, { actions: [speak("Goodbye")] }), [
      'instructions[0].text: expected to contain "help", got "Goodbye"',
    ]);
    assert.deepEqual(verdict({ actions: [{ type: "speak", text: { matches: "^Hi" } }, "listen"] }, { actions: [speak("Hello"), listen()] }), [
      'instructions[0].text: expected to match /^Hi/, got "Hello"',
    ]);
  });

  it("the right actions pass, with type names, fields and matchers", () => {
    assert.deepEqual(verdict({ actions: ["speak", "listen"] }, { actions: [speak("hi"), listen()] }), []);
    assert.deepEqual(
      verdict({ actions: [{ type: "speak", text: { contains: "help" } }, { type: "listen" }] }, { actions: [speak("How can I help?"), listen()] }),
      [],
    );
    assert.deepEqual(verdict({ actions: [{ type: "transfer", to: { matches: "^\\+1555" } }] }, { actions: [transfer("+15550100002")] }), []);
    assert.deepEqual(verdict({ actions: [] }), []);
  });

  it("compareActions names the label it was given (flows: instructions)", () => {
    assert.deepEqual(expectFindings(compareActions(["hangup"], [], "instructions")), ["instructions: expected [hangup], got []"]);
  });
});

describe("says", () => {
  it("not expected: anything or nothing spoken passes", () => {
    assert.deepEqual(verdict({}, { actions: [speak("whatever")] }), []);
    assert.deepEqual(verdict({ ends: false }), []);
  });

  it("expected but nothing spoken fails, for a literal and each matcher", () => {
    assert.deepEqual(verdict({ says: "Hello" }, { actions: [listen(0)] }), ['says: expected "Hello", got ""']);
    assert.deepEqual(verdict({ says: { contains: "Hello" } }), ['says: expected to contain "Hello", got ""']);
    assert.deepEqual(verdict({ says: { matches: "." } }), ['says: expected to match /./, got ""']);
  });

  it("the wrong words fail: a literal is the whole text, contains is case-sensitive, matches is a pattern", () => {
    assert.deepEqual(verdict({ says: "Hello" }, { actions: [speak("Hello there")] }), ['says: expected "Hello", got "Hello there"']);
    assert.deepEqual(verdict({ says: { contains: "reschedule" } }, { actions: [speak("Reschedule?")] }), [
      'says: expected to contain "reschedule", got "Reschedule?"',
    ]);
    assert.deepEqual(verdict({ says: { matches: "^bye$" } }, { actions: [speak("Bye")] }), ['says: expected to match /^bye$/, got "Bye"']);
  });

  it("the right words pass: everything spoken in the turn, joined by spaces, actions without text skipped", () => {
    const actions = [speak("Hello.", 0), listen(1), speak("How can I help?", 2)];
    assert.deepEqual(verdict({ says: "Hello. How can I help?" }, { actions }), []);
    assert.deepEqual(verdict({ says: { contains: "Hello. How" } }, { actions }), []);
    assert.deepEqual(verdict({ says: { matches: "^Hello\\. How can I help\\?$" } }, { actions }), []);
    assert.deepEqual(verdict({ says: "" }, { actions: [{ type: "speak", path: "x", text: 5 }] }), []);
  });
});

describe("ends: true, false or how", () => {
  it("not expected: ended or not, it passes", () => {
    assert.deepEqual(verdict({}, { ended: "handler_hangup" }), []);
    assert.deepEqual(verdict({}), []);
  });

  it("true: a call that goes on fails; one that ended, however, passes", () => {
    assert.deepEqual(verdict({ ends: true }), ["ends: expected the call to end in this turn, but it went on"]);
    for (const ended of ["caller_hangup", "handler_hangup", "transferred", "rejected", "failed", "timeout"] as const)
      assert.deepEqual(verdict({ ends: true }, { ended }), [], ended);
  });

  it("false: a call that ended fails, naming how; one that goes on passes", () => {
    assert.deepEqual(verdict({ ends: false }, { ended: "handler_hangup" }), ["ends: expected the call to go on, but it ended (handler_hangup)"]);
    assert.deepEqual(verdict({ ends: false }), []);
  });

  it("a reason: going on fails, another reason fails, that reason passes", () => {
    assert.deepEqual(verdict({ ends: "transferred" }), ["ends: expected the call to end (transferred), but it went on"]);
    assert.deepEqual(verdict({ ends: "transferred" }, { ended: "handler_hangup" }), [
      "ends: expected the call to end (transferred), but it ended (handler_hangup)",
    ]);
    assert.deepEqual(verdict({ ends: "transferred" }, { ended: "transferred" }), []);
  });
});

describe("transfers_to", () => {
  it("not expected: a transfer anywhere passes", () => {
    assert.deepEqual(verdict({}, { actions: [transfer("+15550100002")] }), []);
  });

  it("expected but no transfer happened (none, or one without a target) fails", () => {
    assert.deepEqual(verdict({ transfers_to: "+15550100002" }), ["transfers_to: expected a transfer, got none"]);
    assert.deepEqual(verdict({ transfers_to: { contains: "+1" } }, { actions: [speak("transferring you")] }), ["transfers_to: expected a transfer, got none"]);
    assert.deepEqual(verdict({ transfers_to: { matches: "." } }, { actions: [transfer(undefined)] }), ["transfers_to: expected a transfer, got none"]);
  });

  it("a transfer elsewhere fails, for a literal and each matcher", () => {
    const actions = [speak("One moment", 0), transfer("sip:sales@example.com", 1)];
    assert.deepEqual(verdict({ transfers_to: "sip:support@example.com" }, { actions }), [
      'transfers_to: expected "sip:support@example.com", got "sip:sales@example.com"',
    ]);
    assert.deepEqual(verdict({ transfers_to: { contains: "SALES" } }, { actions }), ['transfers_to: expected to contain "SALES", got "sip:sales@example.com"']);
    assert.deepEqual(verdict({ transfers_to: { matches: "^tel:" } }, { actions }), ['transfers_to: expected to match /^tel:/, got "sip:sales@example.com"']);
  });

  it("the right target passes; the first transfer is the one that counts", () => {
    const actions = [speak("One moment", 0), transfer("sip:sales@example.com", 1), transfer("+15550100009", 2)];
    assert.deepEqual(verdict({ transfers_to: "sip:sales@example.com" }, { actions }), []);
    assert.deepEqual(verdict({ transfers_to: { contains: "sales" } }, { actions }), []);
    assert.deepEqual(verdict({ transfers_to: { matches: "^sip:" } }, { actions }), []);
    assert.deepEqual(verdict({ transfers_to: "+15550100009" }, { actions }), ['transfers_to: expected "+15550100009", got "sip:sales@example.com"']);
  });
});

describe("result (tool results)", () => {
  it("not expected: any result passes", () => {
    assert.deepEqual(verdict({}, { actions: [toolResult({ ok: false })] }), []);
  });

  it("expected but no tool result fails", () => {
    assert.deepEqual(verdict({ result: "booked" }), ["result: expected a tool result, got none"]);
    assert.deepEqual(verdict({ result: { contains: "booked" } }, { actions: [speak("booked")] }), ["result: expected a tool result, got none"]);
    assert.deepEqual(verdict({ result: { slot: "10:00" } }), ["result: expected a tool result, got none"]);
  });

  it("the wrong result fails: text, matchers (over the result as JSON text) and objects (deeply)", () => {
    assert.deepEqual(verdict({ result: "booked" }, { actions: [toolResult("Booked")] }), ['result: expected "booked", got "Booked"']);
    assert.deepEqual(verdict({ result: { contains: "booked" } }, { actions: [toolResult({ status: "full" })] }), [
      'result: expected to contain "booked", got "{\\"status\\":\\"full\\"}"',
    ]);
    assert.deepEqual(verdict({ result: { matches: "^ok" } }, { actions: [toolResult("not ok")] }), ['result: expected to match /^ok/, got "not ok"']);
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions: [toolResult({ slot: "11:00" })] }), ['result.slot: expected "10:00", got "11:00"']);
    // A result sent as JSON text (Vapi's tool results are strings) is compared as the value it encodes.
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions: [toolResult('{"slot":"10:00"}')] }), []);
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions: [toolResult('{"slot":"11:00"}')] }), ['result.slot: expected "10:00", got "11:00"']);
  });

  it("the right result passes, if any of the turn's results matches", () => {
    assert.deepEqual(verdict({ result: "booked" }, { actions: [toolResult("booked")] }), []);
    assert.deepEqual(verdict({ result: '{"status":"booked"}' }, { actions: [toolResult({ status: "booked" })] }), []);
    assert.deepEqual(verdict({ result: { contains: '"status":"booked"' } }, { actions: [toolResult({ status: "booked" })] }), []);
    assert.deepEqual(verdict({ result: { matches: "^booked for \\d+$" } }, { actions: [toolResult("booked for 2")] }), []);
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions: [toolResult({ slot: "09:00" }, 0), toolResult({ slot: "10:00" }, 1)] }), []);
  });

  it("a result object with a field named contains or matches is compared as an object, not as a matcher", () => {
    assert.deepEqual(verdict({ result: { contains: "x", count: 2 } }, { actions: [toolResult({ contains: "x", count: 2 })] }), []);
    assert.deepEqual(verdict({ result: { matches: "x", count: 2 } }, { actions: [toolResult({ matches: "y", count: 2 })] }), [
      'result.matches: expected "x", got "y"',
    ]);
  });
});

describe("native", () => {
  const document = nativeOf(speakListen);

  it("not expected: nothing is checked", () => {
    assert.deepEqual(verdict({}, { natives: [document] }), []);
  });

  it("nothing at the path (or no document) fails for equals, contains and matches", () => {
    assert.deepEqual(expectFindings(checkNative([{ path: "instructions[0].voice", equals: "alice" }], [document])), [
      'instructions[0].voice: expected "alice", got nothing there',
    ]);
    assert.deepEqual(expectFindings(checkNative([{ path: "instructions[0].text", contains: "Hello" }], [undefined])), [
      'instructions[0].text: expected to contain "Hello", got nothing there',
    ]);
    assert.deepEqual(verdict({ native: [{ path: "instructions[5].type", matches: "." }] }, { natives: [document] }), [
      "instructions[5].type: expected to match /./, got nothing there",
    ]);
    assert.deepEqual(verdict({ native: [{ path: "instructions[0].type", equals: "speak" }] }), ['instructions[0].type: expected "speak", got nothing there']);
  });

  it("the wrong value fails, naming every value found", () => {
    assert.deepEqual(
      expectFindings(checkNative([{ path: "instructions[0].type", equals: "listen" }], [document, nativeOf({ instructions: [{ type: "hangup" }] })])),
      ['instructions[0].type: expected "listen", got "speak", "hangup"'],
    );
    assert.deepEqual(expectFindings(checkNative([{ path: "instructions[0].text", contains: "hello" }], [document])), [
      'instructions[0].text: expected to contain "hello", got "Hello, how can I help?"',
    ]);
    assert.deepEqual(expectFindings(checkNative([{ path: "instructions[0].text", matches: "^How" }], [document])), [
      'instructions[0].text: expected to match /^How/, got "Hello, how can I help?"',
    ]);
    assert.deepEqual(expectFindings(checkNative([{ path: "instructions[1]", equals: { type: "speak" } }], [document])), [
      'instructions[1]: expected {"type":"speak"}, got {"type":"listen"}',
    ]);
  });

  it("the right value passes, in any of the turn's documents", () => {
    const later = nativeOf({ instructions: [{ type: "hangup" }] });
    assert.deepEqual(
      verdict(
        {
          native: [
            { path: "instructions[0].type", equals: "hangup" },
            { path: "instructions[0].text", contains: "help" },
          ],
        },
        { natives: [document, later] },
      ),
      [],
    );
    assert.deepEqual(
      shown(
        checkNative(
          [
            { path: "instructions[1]", equals: { type: "listen" } },
            { path: "instructions[0].text", matches: "^Hello" },
          ],
          [undefined, document],
        ),
      ),
      [],
    );
  });
});

describe("status, 3xx and redirects (per webhook)", () => {
  it("not expected: any 2xx passes, anything else fails", () => {
    assert.deepEqual(shown(reply({ status: 204, eventType: "call.ended" }).failures), []);
    assert.deepEqual(shown(reply({ status: 299, eventType: "call.ended" }).failures), []);
    for (const status of [199, 300, 400, 500])
      assert.deepEqual(shown(reply({ status, eventType: "call.ended" }).failures), [`: expected status 2xx, got ${status}`], String(status));
    assert.equal(statusMatches(200, undefined), true);
    assert.equal(describeStatus(undefined), "2xx");
  });

  it("a 3xx on a platform that follows no redirects fails, Location or not", () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const result = reply({ status, headers: { location: "http://127.0.0.1:9/elsewhere" }, json: speakListen });
      assert.deepEqual(shown(result.failures), [`: expected status 2xx, got ${status}`], String(status));
      assert.equal(result.parsed, undefined);
    }
  });

  it("a redirect the platform follows (Twilio's 301/302/303/307 with a Location) is not the answer; without a Location, or another 3xx, it fails", () => {
    const eventType = Object.keys(twilioPlatform.events)[0]!;
    const on = (status: number, headers: Record<string, string>) => shown(reply({ platform: twilioPlatform, eventType, status, headers }).failures);
    assert.deepEqual(on(301, { location: "/twiml" }), []);
    assert.deepEqual(on(307, { location: "/twiml" }), []);
    assert.match(on(301, {})[0]!, /^: expected status 2xx, got 301/);
    assert.deepEqual(on(302, { location: "/twiml" }), []);
    assert.deepEqual(on(303, { location: "/twiml" }), []);
    assert.match(on(308, { location: "/twiml" })[0]!, /^: expected status 2xx, got 308/);
  });

  it("an expected status: another fails (a 2xx too), the one or one of the list passes", () => {
    assert.deepEqual(shown(reply({ status: 200, json: speakListen, expect: { status: 204 } }).failures), [": expected status 204, got 200"]);
    assert.deepEqual(shown(reply({ status: 500, eventType: "call.ended", expect: { status: [200, 204] } }).failures), [
      ": expected status 200 or 204, got 500",
    ]);
    assert.deepEqual(shown(reply({ status: 410, eventType: "call.ended", expect: { status: 410 } }).failures), []);
    assert.deepEqual(shown(reply({ status: 204, eventType: "call.ended", expect: { status: [200, 204] } }).failures), []);
  });

  it("a failing status is not parsed: no actions are taken from an error page", () => {
    const result = reply({ status: 500, json: speakListen, expect: { actions: ["speak", "listen"] } });
    assert.deepEqual(shown(result.failures), [": expected status 2xx, got 500"]);
    assert.equal(result.parsed, undefined);
  });
});

describe("actions and native on a webhook's reply", () => {
  it("expected actions: absent, wrong and right", () => {
    assert.deepEqual(shown(reply({ eventType: "call.ended", status: 204, headers: {}, expect: { actions: ["hangup"] } }).failures), [
      'body: expected {"instructions": [...]}, got an empty reply (204)',
    ]);
    assert.deepEqual(shown(reply({ json: speakListen, expect: { instructions: ["speak", "hangup"] } }).failures), [
      "instructions: expected [speak, hangup], got [speak, listen]",
    ]);
    assert.deepEqual(shown(reply({ json: speakListen, expect: { actions: [{ type: "speak", text: { contains: "hello" } }, "listen"] } }).failures), [
      'instructions[0].text: expected to contain "hello", got "Hello, how can I help?"',
    ]);
    assert.deepEqual(shown(reply({ json: speakListen, expect: { instructions: [{ type: "speak", text: { contains: "Hello" } }, "listen"] } }).failures), []);
  });

  it("a reply that breaks the schema fails on the schema alone, not on the expectation too", () => {
    assert.deepEqual(shown(reply({ json: { instructions: [{ type: "speak" }] }, expect: { instructions: ["speak"] } }).failures), [
      "instructions[0].text: required (a string)",
    ]);
  });

  it("expected native values on an event that does not wait: absent, wrong and right", () => {
    const ack = (json: unknown) =>
      shown(reply({ eventType: "call.ended", json, expect: { native: [{ path: "instructions[0].type", equals: "hangup" }] } }).failures);
    assert.deepEqual(ack({ instructions: [] }), ['instructions[0].type: expected "hangup", got nothing there']);
    assert.deepEqual(ack({ instructions: [{ type: "speak", text: "bye" }] }), ['instructions[0].type: expected "hangup", got "speak"']);
    assert.deepEqual(ack({ instructions: [{ type: "hangup" }] }), []);
  });

  it("ack_only: instructions fail, none pass, the body is not read otherwise", () => {
    assert.deepEqual(shown(reply({ eventType: "call.ended", json: { instructions: [{ type: "hangup" }] }, expect: { ack_only: true } }).failures), [
      "instructions: expected an ack without instructions, got 1",
    ]);
    assert.deepEqual(shown(reply({ eventType: "call.ended", json: { instructions: [] }, expect: { ack_only: true } }).failures), []);
    assert.equal(reply({ eventType: "call.ended", json: { instructions: [{ type: "hangup" }] } }).parsed, undefined);
  });

  it("an expectation of no actions lifts the platform's at-least-one rule", () => {
    assert.deepEqual(shown(reply({ json: { instructions: [] }, expect: { actions: [] } }).failures), []);
    assert.deepEqual(shown(reply({ json: { instructions: [] } }).failures), [
      "instructions: expected at least one instruction: the platform waits after call.started",
    ]);
  });
});

describe("max_latency_ms, the budget and the platform's own deadline", () => {
  it("not expected: over the budget is a warning (a failure with --strict-latency); on budget is neither", () => {
    assert.deepEqual(latencyFindings(201, undefined, 200, false), {
      failures: [],
      warnings: [{ kind: "budget", message: "latency 201 ms over budget 200 ms" }],
    });
    assert.deepEqual(latencyFindings(201, undefined, 200, true), {
      failures: [{ kind: "budget", message: "latency 201 ms over budget 200 ms" }],
      warnings: [],
    });
    assert.deepEqual(latencyFindings(200, undefined, 200, true), { failures: [], warnings: [] });
  });

  it("over max_latency_ms fails (strict or not, on budget or not); at it or under passes", () => {
    assert.deepEqual(latencyFindings(120.4, 100, 200, false), {
      failures: [{ kind: "latency", message: "latency 120 ms over max_latency_ms 100 ms" }],
      warnings: [],
    });
    assert.deepEqual(latencyFindings(100.5, 100, 200, false).failures.length, 1);
    assert.deepEqual(latencyFindings(100, 100, 50, false), { failures: [], warnings: [{ kind: "budget", message: "latency 100 ms over budget 50 ms" }] });
    assert.deepEqual(latencyFindings(99, 100, 200, true), { failures: [], warnings: [] });
    assert.deepEqual(shown(reply({ eventType: "call.ended", status: 204, latencyMs: 300, expect: { max_latency_ms: 250 } }).failures), [
      ": latency 300 ms over max_latency_ms 250 ms",
    ]);
    assert.deepEqual(shown(reply({ eventType: "call.ended", status: 204, latencyMs: 250, expect: { max_latency_ms: 250 }, budgetMs: 1000 }).failures), []);
  });

  it("past the platform's fixed deadline the reply is no reply, whatever the expectations", () => {
    const eventType = "assistant-request";
    const deadline = vapiPlatform.events[eventType]!.deadlineMs!;
    const late = reply({ platform: vapiPlatform, eventType, status: 204, latencyMs: deadline + 1, budgetMs: 100_000 });
    assert.ok(
      late.failures.some(
        (finding) => finding.message === `latency ${deadline + 1} ms over the platform's fixed ${deadline} ms for ${eventType}: it gave up on the reply`,
      ),
      shown(late.failures).join("\n"),
    );
    const onTime = reply({ platform: vapiPlatform, eventType, status: 204, latencyMs: deadline, budgetMs: 100_000 });
    assert.ok(!onTime.failures.some((finding) => finding.kind === "latency"), shown(onTime.failures).join("\n"));
  });
});

describe("media streams: first_audio_ms and stops_on_interrupt", () => {
  const media = (over: Partial<TurnMedia>): TurnMedia => ({
    protocol: "twilio",
    measures: "audio",
    firstAudioMs: 300,
    agentAudioMs: 1200,
    stoppedOnInterrupt: undefined,
    marks: { sent: 0, acknowledged: 0 },
    ...over,
  });
  const on = (expect: Expect, turnMedia: TurnMedia | undefined) => expectFindings(checkMedia(expect, turnMedia));

  it("not expected: nothing is checked", () => {
    assert.deepEqual(on({}, undefined), []);
    assert.deepEqual(on({}, media({ firstAudioMs: undefined, stoppedOnInterrupt: false })), []);
  });

  it("first_audio_ms: no stream, no audio, or too late fails; at the limit or sooner passes", () => {
    assert.deepEqual(on({ first_audio_ms: 500 }, undefined), ["first_audio_ms: expected agent audio within 500 ms, but the turn had no media stream"]);
    assert.deepEqual(on({ first_audio_ms: 500 }, media({ firstAudioMs: undefined })), [
      "first_audio_ms: expected the agent's first audio within 500 ms, got none",
    ]);
    assert.deepEqual(on({ first_audio_ms: 500 }, media({ firstAudioMs: 501 })), ["first_audio_ms: expected the agent's first audio within 500 ms, got 501 ms"]);
    assert.deepEqual(on({ first_audio_ms: 500 }, media({ firstAudioMs: 501, measures: "token" })), [
      "first_audio_ms: expected the agent's first token within 500 ms, got 501 ms",
    ]);
    assert.deepEqual(on({ first_audio_ms: 500 }, media({ firstAudioMs: 500 })), []);
    assert.deepEqual(on({ first_audio_ms: 500 }, media({ firstAudioMs: 0 })), []);
  });

  it("stops_on_interrupt: no interruption fails; the wrong behaviour fails either way; the right one passes", () => {
    assert.deepEqual(on({ stops_on_interrupt: true }, undefined), [
      "stops_on_interrupt: expected an interruption on the media stream, but the caller did not talk over the agent in this turn",
    ]);
    assert.deepEqual(on({ stops_on_interrupt: false }, media({})), [
      "stops_on_interrupt: expected an interruption on the media stream, but the caller did not talk over the agent in this turn",
    ]);
    assert.deepEqual(on({ stops_on_interrupt: true }, media({ stoppedOnInterrupt: false })), [
      "stops_on_interrupt: expected the agent to stop (clear) when the caller interrupted, but it kept talking",
    ]);
    assert.deepEqual(on({ stops_on_interrupt: false }, media({ stoppedOnInterrupt: true })), [
      "stops_on_interrupt: expected the agent to keep talking, but it stopped when interrupted",
    ]);
    assert.deepEqual(on({ stops_on_interrupt: true }, media({ stoppedOnInterrupt: true })), []);
    assert.deepEqual(on({ stops_on_interrupt: false }, media({ stoppedOnInterrupt: false })), []);
  });

  it("a turn checks its media with the rest", () => {
    assert.deepEqual(verdict({ first_audio_ms: 100, ends: false }, { media: media({ firstAudioMs: 150 }) }), [
      "first_audio_ms: expected the agent's first audio within 100 ms, got 150 ms",
    ]);
  });
});

describe("a turn without expectations, and one with several failing", () => {
  it("no expect: no findings whatever happened", () => {
    assert.deepEqual(shown(checkTurn(turn(undefined, { ended: "failed", actions: [speak("x")] }))), []);
  });

  it("every failing key is reported, in order", () => {
    assert.deepEqual(verdict({ actions: ["hangup"], says: "bye", ends: true, transfers_to: "+1", result: "ok" }, { actions: [speak("hi")] }), [
      "actions: expected [hangup], got [speak]",
      'says: expected "bye", got "hi"',
      "ends: expected the call to end in this turn, but it went on",
      "transfers_to: expected a transfer, got none",
      "result: expected a tool result, got none",
    ]);
  });
});
