/**
 * The corners of the verdicts (issue 30, with verdicts.test.ts and verdicts-more.test.ts), found by
 * mutation testing: `listens_for`, tool results that failed or match partially, native values read from
 * XML attribute text, the hint beside a failing status, what vwh reads of a reply it does not act on
 * (a followed redirect, an expected non-2xx, an ack) and the platform's deadline — each failing case
 * asserted by its exact message and path.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareReplies } from "../../src/checks/compare-replies.js";
import { checkNative, nativeExpectationSchema, partialMismatches, valueMatcherSchema } from "../../src/checks/expectations.js";
import type { Finding } from "../../src/core/findings.js";
import { jsonSchemaFor } from "../../src/files/json-schemas.js";
import { issuesToProblems } from "../../src/lib/validation.js";
import type { Action, NativeDocument, Platform } from "../../src/platforms/types.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { vapiPlatform } from "../../src/platforms/vapi/index.js";
import { vwhPlatform } from "../../src/platforms/vwh/index.js";
import { expectFindings, reply, shown, speak, speakListen, verdict } from "../verdict-helpers.js";

const listen = (input: unknown, at = 1): Action => ({ type: "listen", path: `instructions[${at}]`, ...(input !== undefined && { input }) });

const twilioEvent = Object.entries(twilioPlatform.events).find(([, spec]) => spec.waits)![0];
const twiml = (inner: string) => Buffer.from(`<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`);

describe("listens_for", () => {
  it("not expected: listening for anything, or not at all, passes", () => {
    assert.deepEqual(verdict({}, { actions: [speak("Press 1"), listen(["dtmf"])] }), []);
    assert.deepEqual(verdict({}, { actions: [speak("Bye")] }), []);
  });

  it("no listen in the turn fails, whatever else was said", () => {
    assert.deepEqual(verdict({ listens_for: "speech" }), ["listens_for: expected the platform to listen for speech, got no listen"]);
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [speak("Press 1")] }), [
      "listens_for: expected the platform to listen for dtmf, got no listen",
    ]);
  });

  it("a listen for the other input fails, naming what it takes", () => {
    assert.deepEqual(verdict({ listens_for: "speech" }, { actions: [speak("Press 1"), listen(["dtmf"])] }), [
      "listens_for: expected the platform to listen for speech, got a listen for dtmf",
    ]);
    assert.deepEqual(verdict({ listens_for: "speech" }, { actions: [listen("dtmf", 0)] }), [
      "listens_for: expected the platform to listen for speech, got a listen for dtmf",
    ]);
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [listen([], 0)] }), [
      "listens_for: expected the platform to listen for dtmf, got a listen for nothing",
    ]);
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [listen(["speech"], 0), listen("speech", 1)] }), [
      "listens_for: expected the platform to listen for dtmf, got a listen for speech, speech",
    ]);
  });

  it("an input vwh cannot read (neither text nor a list) is no input named", () => {
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [listen(5, 0)] }), [
      "listens_for: expected the platform to listen for dtmf, got a listen for nothing",
    ]);
  });

  it("a listen taking that input passes (as a list, as one input, or stating none: the platform's default), in any listen of the turn", () => {
    assert.deepEqual(verdict({ listens_for: "speech" }, { actions: [speak("Say something"), listen(["dtmf", "speech"])] }), []);
    assert.deepEqual(verdict({ listens_for: "speech" }, { actions: [listen("speech", 0)] }), []);
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [listen(undefined, 0)] }), []);
    assert.deepEqual(verdict({ listens_for: "dtmf" }, { actions: [listen(["speech"], 0), listen(["dtmf"], 1)] }), []);
  });
});

describe("result: tool errors, several results, partial objects", () => {
  const tool = (fields: Record<string, unknown>, at = 0): Action => ({ type: "tool_result", path: `results[${at}]`, ...fields });

  it("a tool that answered with an error fails with that error, not as a missing result", () => {
    assert.deepEqual(verdict({ result: "booked" }, { actions: [tool({ error: "calendar timeout" })] }), [
      'result: expected a tool result, got the tool\'s error "calendar timeout"',
    ]);
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions: [tool({ error: { code: 503 } })] }), [
      'result: expected a tool result, got the tool\'s error {"code":503}',
    ]);
    assert.deepEqual(verdict({ result: "booked" }, { actions: [tool({})] }), ['result: expected "booked", got nothing']);
    assert.deepEqual(verdict({ result: "booked" }, { actions: [tool({ result: "booked", error: "slow" })] }), [], "a result beside an error is the answer");
    assert.deepEqual(verdict({ result: "booked" }, { actions: [tool({ result: "full", error: "slow" })] }), ['result: expected "booked", got "full"']);
  });

  it("when no result of the turn matches, the first one's differences are reported; one matching is enough", () => {
    const actions = [tool({ result: { slot: "09:00" } }, 0), tool({ result: { slot: "11:00" } }, 1)];
    assert.deepEqual(verdict({ result: { slot: "10:00" } }, { actions }), ['result.slot: expected "10:00", got "09:00"']);
    assert.deepEqual(verdict({ result: { slot: "11:00" } }, { actions }), []);
    assert.deepEqual(verdict({ result: "x" }, { actions: [tool({ error: "down" }, 0), tool({ result: "x" }, 1)] }), []);
  });

  it("{ equals } alone is the whole value; beside other fields it is a field like any other", () => {
    assert.deepEqual(expectFindings(partialMismatches({ equals: { slot: "10:00" } }, { slot: "10:00", room: 2 }, "result")), [
      'result: expected exactly {"slot":"10:00"}, got {"slot":"10:00","room":2}',
    ]);
    assert.deepEqual(expectFindings(partialMismatches({ equals: { slot: "10:00" } }, { slot: "10:00" }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ equals: 1, note: "x" }, { equals: 1, note: "x", more: true }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ equals: 1, note: "x" }, { equals: 2, note: "x" }, "result")), ["result.equals: expected 1, got 2"]);
  });

  it("a missing field fails for a literal, a matcher and an object alike; a value that is no object fails an object", () => {
    assert.deepEqual(expectFindings(partialMismatches({ name: { contains: "Ann" }, guest: { party: 2 }, room: 4 }, {}, "result")), [
      'result.name: expected {"contains":"Ann"}, got nothing',
      'result.guest: expected {"party":2}, got nothing',
      "result.room: expected 4, got nothing",
    ]);
    assert.deepEqual(expectFindings(partialMismatches({ slot: "10:00" }, "booked", "result")), ['result: expected an object, got "booked"']);
    assert.deepEqual(expectFindings(partialMismatches({ slot: "10:00" }, [{ slot: "10:00" }], "result")), [
      'result: expected an object, got [{"slot":"10:00"}]',
    ]);
    assert.deepEqual(expectFindings(partialMismatches({ slot: "10:00" }, null, "result")), ["result: expected an object, got null"]);
  });

  it("a list is not read as JSON text, even one holding the JSON of the object expected", () => {
    assert.deepEqual(expectFindings(partialMismatches({ ok: true }, ['{"ok":true}'], "result")), ['result: expected an object, got ["{\\"ok\\":true}"]']);
    assert.deepEqual(expectFindings(partialMismatches({ ok: true }, '{"ok":true}', "result")), []);
  });

  it("lists and null are values compared whole, not partial objects", () => {
    assert.deepEqual(expectFindings(partialMismatches({ slots: ["10:00"] }, { slots: ["10:00", "11:00"] }, "result")), [
      'result.slots: expected ["10:00"], got ["10:00","11:00"]',
    ]);
    assert.deepEqual(expectFindings(partialMismatches(["10:00"], ["10:00"], "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ slot: null }, { slot: null }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ slot: null }, { slot: "10:00" }, "result")), ['result.slot: expected null, got "10:00"']);
  });

  it("text compares with a structured value's JSON, a matcher too; text is not quoted again", () => {
    assert.deepEqual(expectFindings(partialMismatches({ count: "5" }, { count: 5 }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ count: "5" }, { count: "5" }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ count: { matches: "^5$" } }, { count: 5 }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches({ count: { matches: "^5$" } }, { count: "5" }, "result")), []);
    assert.deepEqual(expectFindings(partialMismatches("5", undefined, "result")), ['result: expected "5", got nothing']);
  });
});

describe("native values read from XML attribute text", () => {
  const attributes = (values: Record<string, unknown[]>): NativeDocument => ({ select: (path) => values[path] ?? [] });
  const check = (want: unknown, values: unknown[]) =>
    expectFindings(checkNative([{ path: "Response/Gather@numDigits", equals: want }], [attributes({ "Response/Gather@numDigits": values })]));

  it("a number matches the attribute text of that number, however written; other text fails and says it was compared by value", () => {
    assert.deepEqual(check(5, ["5"]), []);
    assert.deepEqual(check(5, [" 5.0 "]), []);
    assert.deepEqual(check(0, ["0"]), []);
    assert.deepEqual(check(6, ["5"]), ['Response/Gather@numDigits: expected 6, got "5" (attribute text compared with a number by value)']);
    assert.deepEqual(check(0, [""]), ['Response/Gather@numDigits: expected 0, got "" (attribute text compared with a number by value)']);
    assert.deepEqual(check(0, ["  "]), ['Response/Gather@numDigits: expected 0, got "  " (attribute text compared with a number by value)']);
  });

  it("a boolean matches true / false in any case; other text fails, saying so", () => {
    assert.deepEqual(check(true, [" TRUE "]), []);
    assert.deepEqual(check(false, ["False"]), []);
    assert.deepEqual(check(true, ["false"]), ['Response/Gather@numDigits: expected true, got "false" (attribute text compared with a boolean by value)']);
    assert.deepEqual(check(true, ["yes"]), ['Response/Gather@numDigits: expected true, got "yes" (attribute text compared with a boolean by value)']);
  });

  it("JSON values compare as they are: no note when nothing was text, and null or text is never read by value", () => {
    assert.deepEqual(check(6, [5]), ["Response/Gather@numDigits: expected 6, got 5"]);
    assert.deepEqual(check(true, [1]), ["Response/Gather@numDigits: expected true, got 1"]);
    assert.deepEqual(check(null, ["null"]), ['Response/Gather@numDigits: expected null, got "null"']);
    assert.deepEqual(check("5", ["5.0"]), ['Response/Gather@numDigits: expected "5", got "5.0"']);
    assert.deepEqual(check({ n: 5 }, ["5"]), ['Response/Gather@numDigits: expected {"n":5}, got "5"']);
    assert.deepEqual(check(5, [5, "6"]), []);
    assert.deepEqual(check(7, [5, "6"]), ['Response/Gather@numDigits: expected 7, got 5, "6" (attribute text compared with a number by value)']);
  });
});

describe("the hint beside a failing status", () => {
  it("Twilio's 3xx it does not follow names its error 11216, exactly", () => {
    const hint = "Twilio error 11216: it follows only 301, 302, 303 and 307 with a Location header (twilio.com/docs/api/errors/11216)";
    const on = (status: number, headers: Record<string, string>) =>
      shown(reply({ platform: twilioPlatform, eventType: twilioEvent, status, headers, body: Buffer.alloc(0) }).failures);
    assert.deepEqual(on(308, { location: "/twiml" }), [`: expected status 2xx, got 308 — ${hint}`]);
    assert.deepEqual(on(301, {}), [`: expected status 2xx, got 301 — ${hint}`]);
    assert.deepEqual(on(500, {}), [": expected status 2xx, got 500"]);
  });

  it("a 401 or 403 gets no hint of the platform's (why is said once per run), other statuses do", () => {
    const explaining: Platform = { ...vwhPlatform, explainStatus: (status) => `the platform's word on ${status}` };
    const on = (status: number) => shown(reply({ platform: explaining, eventType: "call.ended", status }).failures);
    assert.deepEqual(on(401), [": expected status 2xx, got 401"]);
    assert.deepEqual(on(403), [": expected status 2xx, got 403"]);
    assert.deepEqual(on(404), [": expected status 2xx, got 404 — the platform's word on 404"]);
    assert.deepEqual(on(200), []);
  });
});

describe("what vwh reads of a reply the platform does not act on", () => {
  it("a followed redirect's body is not executed: no actions, no findings", () => {
    const result = reply({
      platform: twilioPlatform,
      eventType: twilioEvent,
      status: 302,
      headers: { location: "/next", "content-type": "text/xml" },
      body: twiml("<Say>Hi</Say><Hangup/>"),
      expect: { actions: ["speak", "hangup"] },
      latencyMs: 500,
    });
    assert.deepEqual(result, { failures: [], warnings: [], parsed: { native: undefined, actions: [], failures: [], warnings: [] } });
  });

  it("an expected 300 or 199 is not a success: its body is not read as instructions", () => {
    for (const status of [300, 199]) {
      const result = reply({ status, json: speakListen, expect: { status, actions: ["hangup"] } });
      assert.deepEqual(shown(result.failures), [], String(status));
      assert.equal(result.parsed, undefined, String(status));
    }
  });

  it("ack_only with a native check: the ack must still carry no instructions, and the native check runs", () => {
    const native = [{ path: "instructions", equals: [] }];
    assert.deepEqual(shown(reply({ eventType: "call.ended", json: { instructions: [{ type: "hangup" }] }, expect: { ack_only: true, native } }).failures), [
      "instructions: expected an ack without instructions, got 1",
      'instructions: expected [], got [{"type":"hangup"}]',
    ]);
    assert.deepEqual(shown(reply({ eventType: "call.ended", json: { instructions: [] }, expect: { ack_only: true, native } }).failures), []);
  });

  it("ack_only with an empty list of expected actions: instructions fail as actions not expected", () => {
    assert.deepEqual(
      shown(reply({ eventType: "call.ended", json: { instructions: [{ type: "hangup" }] }, expect: { ack_only: true, actions: [] } }).failures),
      ["actions: expected [], got [hangup]"],
    );
  });

  it("a reply that breaks a platform rule (not its schema) is still compared with the expected actions", () => {
    assert.deepEqual(
      shown(reply({ json: { instructions: [{ type: "hangup" }, { type: "speak", text: "Bye" }] }, expect: { actions: ["speak", "hangup"] } }).failures),
      ["instructions[1]: unreachable: nothing may follow hangup (instructions[0])", "actions: expected [speak, hangup], got [hangup, speak]"],
    );
  });

  it("ack_only on an event that waits does not lift the platform's rules", () => {
    assert.deepEqual(shown(reply({ json: { instructions: [] }, expect: { ack_only: true } }).failures), [
      "instructions: expected at least one instruction: the platform waits after call.started",
    ]);
    assert.deepEqual(shown(reply({ json: speakListen, expect: { ack_only: true } }).failures), []);
  });

  it("a recorded Twilio request (none built by vwh) still has an audio reply read: it plays the reply's own URL", () => {
    const result = reply({ platform: twilioPlatform, eventType: twilioEvent, headers: { "content-type": "audio/mpeg" }, body: Buffer.from([0xff, 0xfb]) });
    assert.deepEqual(result.parsed?.actions, [
      { type: "play", path: "body", url: "http://recorded.invalid/" },
      { type: "hangup", path: "body" },
    ]);
  });
});

describe("the platform's fixed deadline", () => {
  const eventType = "assistant-request";
  const deadline = vapiPlatform.events[eventType]!.deadlineMs!;
  const message = (latency: number) => `latency ${latency} ms over the platform's fixed ${deadline} ms for ${eventType}: it gave up on the reply`;

  it("a late reply fails with its rounded latency, and what the platform read of it carries the failure", () => {
    const late = reply({ platform: vapiPlatform, eventType, status: 204, headers: {}, latencyMs: deadline + 0.6, budgetMs: 100_000 });
    const finding = { kind: "latency", message: message(deadline + 1) };
    assert.deepEqual(
      late.failures.filter((found) => found.kind === "latency"),
      [finding],
    );
    assert.deepEqual(
      late.parsed?.failures.filter((found) => found.kind === "latency"),
      [finding],
    );
  });

  it("a late error page fails on its status and its lateness, with nothing read", () => {
    const late = reply({ platform: vapiPlatform, eventType, status: 500, headers: {}, latencyMs: deadline + 1, budgetMs: 100_000 });
    assert.deepEqual(shown(late.failures), [": expected status 2xx, got 500", `: ${message(deadline + 1)}`]);
    assert.equal(late.parsed, undefined);
  });
});

describe("--compare-replies: media types", () => {
  it("blanks around the media type and its parameters are not a difference", () => {
    const recorded = { status: 200, headers: { "content-type": "application/json" }, body: "{}", body_encoding: "utf8" as const };
    assert.deepEqual(compareReplies(recorded, { status: 200, headers: { "content-type": " application/json ; charset=utf-8" }, body: Buffer.from("{}") }), []);
    assert.deepEqual(shown(compareReplies(recorded, { status: 200, headers: { "content-type": "application/json+x" }, body: Buffer.from("{}") })), [
      "content-type: reply differs from the recording: content type application/json → application/json+x",
    ]);
  });
});

describe("the kind of each finding of a reply (what --json reports and load mode counts by)", () => {
  it("status, expectation and platform rule findings keep their kinds; a wrong list of actions is named by its key", () => {
    const kinds = (findings: readonly Finding[]) => findings.map((finding) => `${finding.kind} ${finding.path ?? ""}: ${finding.message}`);
    assert.deepEqual(kinds(reply({ status: 404, eventType: "call.ended" }).failures), ["status : expected status 2xx, got 404"]);
    assert.deepEqual(kinds(reply({ eventType: "call.ended", json: { instructions: [{ type: "hangup" }] }, expect: { ack_only: true } }).failures), [
      "expect instructions: expected an ack without instructions, got 1",
    ]);
    assert.deepEqual(kinds(reply({ json: speakListen, expect: { actions: ["speak", "hangup"] } }).failures), [
      "expect actions: expected [speak, hangup], got [speak, listen]",
    ]);
  });
});

describe("what loads as an expectation, as the user reads it", () => {
  it("a pattern RE2 cannot run is a load problem at its path, with RE2's reason", () => {
    const parsed = valueMatcherSchema.safeParse({ matches: "(a)\\1" });
    assert.equal(parsed.success, false);
    const problems = issuesToProblems(parsed.error!).map((problem) => `${problem.path}: ${problem.message}`);
    assert.equal(problems.length, 1, problems.join("\n"));
    assert.equal(problems[0], "matches: expected a regular expression RE2 can run in linear time (error parsing regexp: invalid escape sequence: `\\1`)");
  });

  it("a native check's path may be any non-empty path, for equals as for contains and matches", () => {
    for (const check of [
      { path: "Response/Gather@numDigits", equals: 5 },
      { path: "Response/Say", contains: "Hi" },
      { path: "Response/Say", matches: "^Hi" },
    ])
      assert.ok(nativeExpectationSchema.safeParse(check).success, JSON.stringify(check));
  });

  it("the published call-flow schema tells editors that contains is case-sensitive and matches takes a regular expression", () => {
    const described = new Map<string, Set<string>>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (typeof node !== "object" || node === null) return;
      const properties = (node as { properties?: Record<string, { description?: string }> }).properties;
      for (const key of ["contains", "matches"]) {
        const description = properties?.[key]?.description;
        if (description) described.set(key, (described.get(key) ?? new Set()).add(description));
      }
      Object.values(node).forEach(walk);
    };
    walk(jsonSchemaFor("call-flow"));
    assert.ok(
      [...(described.get("contains") ?? [])].some((text) => /case-sensitive/.test(text)),
      JSON.stringify([...(described.get("contains") ?? [])]),
    );
    assert.ok(
      [...(described.get("matches") ?? [])].some((text) => /regular expression/.test(text)),
      JSON.stringify([...(described.get("matches") ?? [])]),
    );
  });
});
