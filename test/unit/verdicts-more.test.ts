/**
 * More verdicts (issue 30, with verdicts.test.ts): --compare-replies against a recorded reply, what loads
 * as a matcher, an expected action or a native check, and the corners of reading a webhook's reply —
 * each failing case asserted by its message and path.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compareReplies } from "../../src/checks/compare-replies.js";
import { actionExpectationSchema, nativeExpectationSchema, valueMatcherSchema } from "../../src/checks/expectations.js";
import { checkTurn } from "../../src/engine/script-call.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { reply, shown, speak, speakListen, turn, type Expect, type TurnInput } from "../verdict-helpers.js";

const verdict = (expect: Expect, over: Partial<TurnInput> = {}) => shown(checkTurn(turn(expect, over)));

describe("what loads as an expectation", () => {
  it("a matcher is { contains } or { matches } with a pattern RE2 runs, nothing more", () => {
    assert.ok(valueMatcherSchema.safeParse({ contains: "a" }).success);
    assert.ok(valueMatcherSchema.safeParse({ matches: "^a+$" }).success);
    const backreference = valueMatcherSchema.safeParse({ matches: "(a)\\1" });
    assert.equal(backreference.success, false);
    assert.match(JSON.stringify(backreference.error?.issues), /expected a regular expression RE2 can run in linear time/);
    assert.equal(valueMatcherSchema.safeParse({ contains: "a", extra: 1 }).success, false);
    assert.equal(valueMatcherSchema.safeParse({ contains: 1 }).success, false);
  });

  it("an expected action is a known type name, or an object with one and any fields", () => {
    assert.ok(actionExpectationSchema.safeParse("speak").success);
    assert.ok(actionExpectationSchema.safeParse({ type: "speak", text: { contains: "hi" } }).success);
    assert.equal(actionExpectationSchema.safeParse("shout").success, false);
    assert.equal(actionExpectationSchema.safeParse({ type: "shout" }).success, false);
    assert.equal(actionExpectationSchema.safeParse({ text: "hi" }).success, false);
  });

  it("a native check has a non-empty path and exactly one of equals, contains, matches", () => {
    for (const good of [
      { path: "a", equals: null },
      { path: "a.b[0]", contains: "x" },
      { path: "a", matches: "x+" },
    ])
      assert.ok(nativeExpectationSchema.safeParse(good).success, JSON.stringify(good));
    for (const bad of [
      { path: "", equals: 1 },
      { path: "ab", contains: 1 },
      { path: "a", matches: "(?=x)" },
      { path: "a", equals: 1, contains: "x" },
      { path: "a" },
      { equals: 1 },
    ]) {
      assert.equal(nativeExpectationSchema.safeParse(bad).success, false, JSON.stringify(bad));
    }
  });
});

describe("expected action fields left out, and type lists in messages", () => {
  it("a field given as undefined is not checked; the type names of partial actions are listed by name", () => {
    assert.deepEqual(verdict({ actions: [{ type: "speak", text: undefined }] }, { actions: [speak("hi")] }), []);
    assert.deepEqual(verdict({ actions: [{ type: "speak" }, "listen"] }, { actions: [speak("hi")] }), ["actions: expected [speak, listen], got [speak]"]);
  });
});

describe("more of a webhook's reply", () => {
  it("an event the platform does not know does not wait: an empty 204 passes", () => {
    assert.deepEqual(shown(reply({ eventType: "vendor.custom", status: 204 }).failures), []);
    assert.equal(reply({ eventType: "vendor.custom", status: 204 }).parsed, undefined);
  });

  it("a body the platform cannot read fails once, not again for the expected actions", () => {
    assert.deepEqual(shown(reply({ body: Buffer.from("{nope"), expect: { instructions: ["speak"] } }).failures).length, 1);
    assert.match(shown(reply({ body: Buffer.from("{nope"), expect: { instructions: ["speak"] } }).failures)[0]!, /^body: not valid JSON/);
  });

  it("a 1xx or 3xx that was expected passes, and is not read as instructions", () => {
    const result = reply({ status: 302, headers: { location: "/x" }, json: speakListen, expect: { status: 302, actions: ["speak"] } });
    assert.deepEqual(shown(result.failures), []);
    assert.equal(result.parsed, undefined);
  });

  it("a recorded request (none built by vwh) still has its reply read", () => {
    const eventType = Object.entries(twilioPlatform.events).find(([, spec]) => spec.waits)![0];
    const twiml = Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hi</Say><Redirect>/next</Redirect></Response>');
    const result = reply({
      platform: twilioPlatform,
      eventType,
      headers: { "content-type": "text/xml" },
      body: twiml,
      expect: { actions: ["speak", "redirect"] },
    });
    assert.deepEqual(shown(result.failures), []);
    assert.deepEqual(
      result.parsed?.actions.map((action) => action.type),
      ["speak", "redirect"],
    );
  });
});

describe("--compare-replies: today's reply against the recorded one", () => {
  const recorded = {
    status: 200,
    headers: { "content-type": "application/json" },
    body: '{"instructions":[{"type":"speak","text":"Hi"}]}',
    body_encoding: "utf8" as const,
  };
  const today = (status: number, contentType: string | undefined, body: string | Buffer) => ({
    status,
    headers: contentType === undefined ? {} : { "content-type": contentType },
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  });

  it("the same reply passes: equal bytes, or equal JSON spelled otherwise, the media type in any case and with parameters", () => {
    assert.deepEqual(compareReplies(recorded, today(200, "application/json", recorded.body)), []);
    assert.deepEqual(compareReplies(recorded, today(200, "Application/JSON; charset=utf-8", '{ "instructions": [ {"text":"Hi", "type":"speak"} ] }')), []);
    assert.deepEqual(compareReplies({ ...recorded, headers: {} }, today(200, undefined, recorded.body)), []);
  });

  it("a changed status, media type or JSON value fails, each at its path", () => {
    assert.deepEqual(shown(compareReplies(recorded, today(201, "application/json", recorded.body))), [
      "status: reply differs from the recording: status 200 → 201",
    ]);
    assert.deepEqual(shown(compareReplies(recorded, today(200, "text/json", recorded.body))), [
      "content-type: reply differs from the recording: content type application/json → text/json",
    ]);
    assert.deepEqual(shown(compareReplies(recorded, today(200, undefined, recorded.body))), [
      "content-type: reply differs from the recording: content type application/json → (none)",
    ]);
    assert.deepEqual(shown(compareReplies({ ...recorded, headers: {} }, today(200, "application/json", recorded.body))), [
      "content-type: reply differs from the recording: content type (none) → application/json",
    ]);
    assert.deepEqual(
      shown(compareReplies(recorded, today(200, "application/json", '{"instructions":[{"type":"speak","text":"Hi"},{"type":"listen"}]}'))).length,
      1,
    );
    const emptied = compareReplies(recorded, today(200, "application/json", '{"instructions":[]}'));
    assert.ok(emptied.length > 0 && emptied.every((finding) => finding.kind === "snapshot" && finding.path === "body"), shown(emptied).join("\n"));
  });

  it("a body that is not JSON is compared byte for byte, naming the first difference with the text around it", () => {
    const xml = {
      status: 200,
      headers: { "content-type": "text/xml" },
      body: "<Response><Say>Hello there, caller</Say></Response>",
      body_encoding: "utf8" as const,
    };
    assert.deepEqual(compareReplies(xml, today(200, "text/xml", xml.body)), []);
    assert.deepEqual(shown(compareReplies(xml, today(200, "text/xml", "<Response><Say>Hello  here, caller</Say></Response>"))), [
      'body: reply differs from the recording: body 51 → 51 bytes, first difference at byte 21: "Say>Hello there, caller</Say></Response>" → "Say>Hello here, caller</Say></Response>"',
    ]);
    assert.deepEqual(shown(compareReplies(xml, today(200, "text/xml", ""))), [
      'body: reply differs from the recording: body 51 → 0 bytes, first difference at byte 0: "<Response><Say>Hello there, ca" → ""',
    ]);
    assert.deepEqual(shown(compareReplies({ ...recorded, body: "{}" }, today(200, "application/json", "{"))), [
      'body: reply differs from the recording: body 2 → 1 bytes, first difference at byte 1: "{}" → "{"',
    ]);
  });

  it("a recorded body in base64 is compared as its bytes", () => {
    const bytes = Buffer.from([0xff, 0x00, 0x10]);
    const binary = { status: 200, headers: {}, body: bytes.toString("base64"), body_encoding: "base64" as const };
    assert.deepEqual(compareReplies(binary, today(200, undefined, bytes)), []);
    assert.match(shown(compareReplies(binary, today(200, undefined, Buffer.from([0xff, 0x01, 0x10]))))[0]!, /body 3 → 3 bytes, first difference at byte 1: /);
  });
});
