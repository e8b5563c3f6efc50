/**
 * Delivering a webhook as the platform would, exactly (issue 30): which replies are retried and how long
 * each wait is (backoff with the run's seeded jitter, a schedule, Retry-After, the timer cap), when the
 * retries run out, what a dead letter holds, how a duplicate is judged, and what an event's result says
 * for each failure. The engine runs in process with a scripted transport and a fake clock: no sockets,
 * no sleeping, every figure asserted.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Agent } from "undici";
import { createSimulationOptions, type CallFlow, type SimulateOptions } from "../../src/api.js";
import { maxTimerMs } from "../../src/core/limits.js";
import { createRandom } from "../../src/core/random.js";
import { runSimulation } from "../../src/engine/run.js";
import type { SimulationOptions } from "../../src/engine/options.js";
import { buildRetryPolicy, classifyAttempt, parseRetryAfter, profiles, retryDelayMs, type RetryPolicy } from "../../src/engine/retry-policy.js";
import type { DeadLetter } from "../../src/files/dead-letters.js";
import { flowFromValue } from "../../src/files/call-flow.js";
import type { DeliveryRequest, DeliveryResult } from "../../src/transport/undici.js";
import { fakeClock, newSecret } from "../helpers.js";

const secret = newSecret();
const start = Date.UTC(2026, 10, 23, 10, 0, 0);
const target = "http://127.0.0.1:9/hooks/voice?tenant=7";

type Reply = DeliveryResult | ((request: DeliveryRequest, index: number) => DeliveryResult);
const reply = (status: number, body = "", headers: Record<string, string> = {}): DeliveryResult => ({
  ok: true,
  status,
  headers,
  body: Buffer.from(body),
  latencyMs: 12,
});
const failure = (kind: "timeout" | "unreachable" | "network", message: string, code?: string): DeliveryResult => ({
  ok: false,
  kind,
  message,
  code,
  latencyMs: 30,
});
const instructions = (...items: unknown[]) => reply(200, JSON.stringify({ instructions: items }), { "content-type": "application/json" });

const flow = (...events: NonNullable<CallFlow["events"]>): CallFlow => ({ version: 1, name: "delivery", call: { call_id: "call_d" }, events });
const ack = flow({ event_type: "call.ended" });

/** Runs `value` with a transport that answers request n with replies[n] (the last one repeats), on a fake clock. */
async function run(value: CallFlow, replies: Reply[], options: Partial<SimulateOptions> = {}, engine: Partial<SimulationOptions> & { dlq?: false } = {}) {
  const clock = fakeClock(start);
  const loaded = await flowFromValue(value, "flows/delivery.json");
  const requests: DeliveryRequest[] = [];
  const dead: DeadLetter[] = [];
  const dispatcher = new Agent();
  const simulation: SimulationOptions = {
    ...createSimulationOptions(
      { url: target, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait, dispatcher, deadLetter: async (entry) => void dead.push(entry), ...options },
      [loaded],
    ),
    transport: async (request) => {
      requests.push(request);
      const next = replies[Math.min(requests.length, replies.length) - 1]!;
      return typeof next === "function" ? next(request, requests.length - 1) : next;
    },
    ...engine,
  };
  if (engine.dlq === false) delete simulation.deadLetter;
  try {
    const result = await runSimulation([loaded], simulation);
    return { result, events: result.flows[0]!.events, waits: clock.waits, requests, dead };
  } finally {
    await dispatcher.close();
  }
}

/** The run's jitter stream (seed 1), as createContext derives it: the waits are exact. */
const jitter = () => createRandom((1 ^ 0x9e3779b9) >>> 0);

describe("which replies are retried, and how many times", () => {
  it("2xx and 3xx: one attempt; 408, 429 and 5xx: retried; 410 stops with its reason; other 4xx are final", async () => {
    const cases: [number, number, string | undefined][] = [
      [200, 1, undefined],
      [204, 1, undefined],
      [302, 1, undefined],
      [399, 1, undefined],
      [400, 1, undefined],
      [404, 1, undefined],
      [408, 3, "gave up after 3 attempts"],
      [429, 3, "gave up after 3 attempts"],
      [499, 1, undefined],
      [500, 3, "gave up after 3 attempts"],
      [503, 3, "gave up after 3 attempts"],
      [410, 1, "410 Gone: the platform stops retrying"],
    ];
    for (const [status, attempts, delivery] of cases) {
      const { events, requests } = await run(ack, [reply(status)], { retries: 2, backoffMs: 10 });
      assert.equal(requests.length, attempts, `${status}`);
      assert.equal(events[0]!.attempts, attempts, `${status}`);
      assert.deepEqual(
        events[0]!.failures.filter((finding) => finding.kind === "delivery").map((finding) => finding.message),
        delivery ? [delivery] : [],
        `${status}`,
      );
    }
  });

  it("a failure then a success: passed after two attempts, each with the same body and its own attempt number", async () => {
    const { events, requests, waits, dead } = await run(ack, [reply(503), reply(204)], { retries: 1, backoffMs: 100 });
    assert.equal(events[0]!.passed, true);
    assert.equal(events[0]!.attempts, 2);
    assert.equal(events[0]!.status, 204);
    assert.deepEqual(
      requests.map((request) => request.headers["vwh-attempt"]),
      ["1", "2"],
    );
    assert.deepEqual(requests[0]!.body, requests[1]!.body);
    assert.deepEqual(waits, [Math.round(50 + jitter().next() * 50)]);
    assert.deepEqual(dead, []);
  });

  it("retries: 0 makes one attempt and no wait; the exhausted event is dead-lettered without 'gave up' (nothing was retried)", async () => {
    const { events, waits, dead } = await run(ack, [reply(503)], { retries: 0 });
    assert.equal(events[0]!.attempts, 1);
    assert.deepEqual(waits, []);
    assert.deepEqual(
      events[0]!.failures.map((finding) => finding.message),
      ["expected status 2xx, got 503"],
    );
    assert.equal(dead.length, 1);
    assert.equal(events[0]!.deadLettered, true);
  });

  it("network failures and timeouts are retried; the result names the failure and its code", async () => {
    const reset = await run(ack, [failure("network", "connection reset (ECONNRESET)", "ECONNRESET")], { retries: 1, backoffMs: 0 });
    assert.equal(reset.events[0]!.attempts, 2);
    assert.deepEqual(reset.events[0]!.failures, [
      { kind: "network", message: "connection reset (ECONNRESET)" },
      { kind: "delivery", message: "gave up after 2 attempts" },
    ]);
    assert.equal(reset.events[0]!.errorCode, "ECONNRESET");
    assert.equal(reset.events[0]!.status, undefined);
    assert.equal(reset.events[0]!.latencyMs, undefined);
    const slow = await run(ack, [failure("timeout", "no reply within 250 ms")], { retries: 0 });
    assert.equal(slow.events[0]!.errorCode, "timeout");
    assert.equal(slow.events[0]!.latencyMs, 30);
    assert.equal(slow.events[0]!.status, undefined);
  });
});

describe("how long each wait is", () => {
  it("backoff doubles per retry, half fixed and half the run's seeded jitter", async () => {
    const { waits } = await run(ack, [reply(500)], { retries: 3, backoffMs: 400 });
    const random = jitter();
    assert.deepEqual(
      waits,
      [400, 800, 1600].map((full) => Math.round(full / 2 + random.next() * (full / 2))),
    );
  });

  it("Retry-After wins over backoff and the schedule, scaled and rounded; an empty or unreadable one is ignored", async () => {
    assert.deepEqual((await run(ack, [reply(429, "", { "retry-after": " 2 " }), reply(204)], { retries: 1, backoffMs: 400 })).waits, [2000]);
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": "1" }), reply(204)], { retries: 1, timeScale: 0.3333 })).waits, [333]);
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": "7" }), reply(204)], { profile: "standard" })).waits, [7000]);
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": "" }), reply(204)], { retries: 1, backoffMs: 0 })).waits, [0]);
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": "later" }), reply(204)], { retries: 1, backoffMs: 0 })).waits, [0]);
    const date = new Date(start + 90_000).toUTCString();
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": date }), reply(204)], { retries: 1 })).waits, [90_000]);
    const past = new Date(start - 90_000).toUTCString();
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": past }), reply(204)], { retries: 1, backoffMs: 400 })).waits, [0]);
  });

  it("no wait is longer than a timer can wait", async () => {
    assert.deepEqual((await run(ack, [reply(503, "", { "retry-after": "99999999" }), reply(204)], { retries: 1 })).waits, [maxTimerMs]);
    const policy: RetryPolicy = { timeoutMs: 1, retries: 40, backoffMs: 1000, timeScale: 1 };
    assert.equal(retryDelayMs(policy, 40, createRandom(1)), maxTimerMs);
    assert.equal(retryDelayMs(policy, 1, createRandom(1), maxTimerMs + 1), maxTimerMs);
    assert.equal(retryDelayMs(policy, 1, createRandom(1), maxTimerMs), maxTimerMs);
  });

  it("the delays, spelled out: Retry-After, then the schedule by retry number, then backoff", () => {
    const policy: RetryPolicy = { timeoutMs: 1, retries: 5, backoffMs: 100, timeScale: 2, scheduleMs: [10, 20] };
    assert.equal(retryDelayMs(policy, 1, createRandom(3), 5), 10);
    assert.equal(retryDelayMs(policy, 1, createRandom(3)), 20);
    assert.equal(retryDelayMs(policy, 2, createRandom(3)), 40);
    const random = createRandom(3);
    const draw = createRandom(3).next();
    assert.equal(retryDelayMs(policy, 3, random), Math.round((200 + draw * 200) * 2));
    const flat: RetryPolicy = { timeoutMs: 1, retries: 5, backoffMs: 100, timeScale: 1 };
    assert.equal(retryDelayMs(flat, 1, { seed: 0, next: () => 0, chance: () => false } as unknown as ReturnType<typeof createRandom>), 50);
    assert.equal(retryDelayMs(flat, 1, { seed: 0, next: () => 0.999, chance: () => false } as unknown as ReturnType<typeof createRandom>), 100);
  });

  it("Retry-After: seconds or an HTTP date, blank or unreadable is none, a past date is now", () => {
    assert.equal(parseRetryAfter(" 3 ", 0), 3000);
    assert.equal(parseRetryAfter("0", 0), 0);
    assert.equal(parseRetryAfter("", 0), undefined);
    assert.equal(parseRetryAfter("  ", 0), undefined);
    assert.equal(parseRetryAfter("3s", 0), undefined);
    assert.equal(parseRetryAfter("x3", 0), undefined);
    assert.equal(parseRetryAfter("3 x", 0), undefined);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter(new Date(1_000).toUTCString(), 4_000), 0);
  });

  it("classifying: the statuses around each rule", () => {
    const status = (code: number, headers: Record<string, string> = {}) => classifyAttempt({ kind: "response", status: code, headers }, 0);
    assert.deepEqual(status(407), { retry: false });
    assert.deepEqual(status(408), { retry: true });
    assert.deepEqual(status(409), { retry: false });
    assert.deepEqual(status(428), { retry: false });
    assert.deepEqual(status(429, { "retry-after": "0" }), { retry: true, retryAfterMs: 0 });
    assert.deepEqual(status(430), { retry: false });
    assert.deepEqual(status(499), { retry: false });
    assert.deepEqual(status(500, { "retry-after": "x" }), { retry: true });
    assert.deepEqual(status(599), { retry: true });
    assert.deepEqual(status(410, { "retry-after": "1" }), { retry: false, reason: "410 Gone: the platform stops retrying" });
    assert.deepEqual(classifyAttempt({ kind: "network" }, 0), { retry: true });
  });

  it("the policy: explicit settings over the profile over the defaults; a schedule only without --backoff", () => {
    assert.deepEqual(buildRetryPolicy({}), { timeoutMs: 10_000, retries: 0, backoffMs: 500, timeScale: 1 });
    assert.deepEqual(buildRetryPolicy({ profile: "vonage" }), { timeoutMs: 5_000, retries: 2, backoffMs: 1_000, timeScale: 1 });
    assert.deepEqual(buildRetryPolicy({ profile: "vonage", timeoutMs: 1, retries: 0, backoffMs: 2, timeScale: 0.5 }), {
      timeoutMs: 1,
      retries: 0,
      backoffMs: 2,
      timeScale: 0.5,
    });
    const minute = 60_000;
    assert.deepEqual(Object.fromEntries(Object.entries(profiles).map(([name, profile]) => [name, { ...profile }])), {
      twilio: { timeoutMs: 15_000, retries: 1, backoffMs: 0 },
      vonage: { timeoutMs: 5_000, retries: 2, backoffMs: 1_000 },
      telnyx: { timeoutMs: 30_000, retries: 2, backoffMs: 1_000 },
      retell: { timeoutMs: 10_000, retries: 3, backoffMs: 1_000 },
      vapi: { timeoutMs: 20_000, retries: 0, backoffMs: 0 },
      standard: {
        timeoutMs: 15_000,
        retries: 9,
        backoffMs: 5_000,
        scheduleMs: [5_000, 5 * minute, 30 * minute, 120 * minute, 300 * minute, 600 * minute, 840 * minute, 1200 * minute, 1440 * minute],
      },
    });
    assert.deepEqual(buildRetryPolicy({ profile: "standard" }).scheduleMs, profiles.standard!.scheduleMs);
    assert.equal("scheduleMs" in buildRetryPolicy({ profile: "standard", backoffMs: 10 }), false);
    assert.equal("scheduleMs" in buildRetryPolicy({ profile: "vonage" }), false);
    assert.throws(() => buildRetryPolicy({ profile: "nope" }), {
      name: "RangeError",
      message: `unknown profile "nope" (expected one of twilio, vonage, telnyx, retell, vapi, standard)`,
    });
  });
});

describe("dead letters", () => {
  it("hold the event, the attempts, the last error, the clock's time and the request to replay (no signature, the target's path and query)", async () => {
    const expect = { status: 204 };
    const { dead, requests } = await run(flow({ event_type: "call.ended", expect }), [reply(503)], { retries: 1, backoffMs: 0 });
    assert.equal(dead.length, 1);
    const entry = dead[0]!;
    const sent = requests[0]!;
    const body = JSON.parse(sent.body.toString("utf8")) as { event_id: string; sequence: number };
    assert.deepEqual(entry, {
      flow: "flows/delivery.json",
      event_type: "call.ended",
      event_id: body.event_id,
      call_id: "call_d",
      sequence: body.sequence,
      attempts: 2,
      last_error: "status 503",
      dead_at: new Date(start).toISOString(),
      raw: {
        method: "POST",
        path: "/hooks/voice?tenant=7",
        // The built request's own headers as sent on the first attempt, without the signature (re-signed on replay).
        headers: { "vwh-attempt": "1", "content-type": "application/json" },
        body: sent.body.toString("utf8"),
        received_at: new Date(start).toISOString(),
      },
      expect,
    });
  });

  it("name a network failure by its message, have no expect when the event has none, and are written only when retries run out", async () => {
    const { dead } = await run(ack, [failure("network", "socket hang up", undefined)], { retries: 0 });
    assert.equal(dead[0]!.last_error, "socket hang up");
    assert.equal("expect" in dead[0]!, false);
    assert.deepEqual((await run(ack, [reply(410)], { retries: 2 })).dead, []);
    assert.deepEqual((await run(ack, [reply(404)], { retries: 2 })).dead, []);
    const noFile = await run(ack, [reply(503)], { retries: 0 }, { dlq: false });
    assert.equal(noFile.events[0]!.deadLettered, false);
  });
});

describe("duplicates", () => {
  const started = flow({ event_type: "call.started" });
  const speak = (text: string) => instructions({ type: "speak", text }, { type: "listen" });

  it("the same instructions pass; different ones fail with the diff; the duplicate is the attempt after the last", async () => {
    const same = await run(started, [speak("Hi"), speak("Hi")], { duplicates: 1 });
    assert.deepEqual(same.events[0]!.duplicate, { attempt: 2, status: 200, passed: true });
    assert.equal(same.events[0]!.passed, true);
    assert.equal(same.events[0]!.exchange, undefined);
    const differ = await run(started, [reply(503), speak("Hi"), speak("Hello")], { duplicates: 1, retries: 1, backoffMs: 0 });
    assert.deepEqual(differ.events[0]!.duplicate, { attempt: 3, status: 200, passed: false });
    assert.deepEqual(differ.events[0]!.failures, [
      {
        kind: "idempotency",
        message: 'duplicate delivery (attempt 3) got different instructions — not idempotent on event_id:\n  instructions[0].text: "Hi" → "Hello"',
      },
    ]);
    assert.equal(differ.events[0]!.passed, false);
    assert.notEqual(differ.events[0]!.exchange, undefined);
    const pair = (first: string, second: string) => instructions({ type: "speak", text: first }, { type: "speak", text: second }, { type: "listen" });
    const two = await run(started, [pair("Hi", "Bye"), pair("Hello", "Ciao")], { duplicates: 1 });
    assert.equal(
      two.events[0]!.failures[0]!.message,
      'duplicate delivery (attempt 2) got different instructions — not idempotent on event_id:\n  instructions[0].text: "Hi" → "Hello"\n  instructions[1].text: "Bye" → "Ciao"',
    );
    assert.deepEqual(
      differ.requests.map((request) => request.headers["vwh-attempt"]),
      ["1", "2", "3"],
    );
  });

  it("a first reply that breaks a platform rule is still read, and compared with its duplicate", async () => {
    const answer: CallFlow = { version: 1, name: "vonage answer", platform: "vonage", call: { call_id: "c1" }, events: [{ event_type: "answer" }] };
    const ncco = (text: string) => reply(200, JSON.stringify([{ action: "talk", text, bargeIn: true }]), { "content-type": "application/json" });
    const { events } = await run(answer, [ncco("Hi"), ncco("Bye")], { duplicates: 1 });
    assert.deepEqual(
      events[0]!.failures.map((finding) => finding.kind),
      ["rule", "idempotency"],
    );
  });

  it("a first reply that fails an expectation is still compared with its duplicate; a run with one --scheme for every flow", async () => {
    const expecting = flow({ event_type: "call.started", expect: { actions: ["hangup"] } });
    const { events } = await run(expecting, [speak("Hi"), speak("Hello")], { duplicates: 1, scheme: "standard" });
    assert.deepEqual(
      events[0]!.failures.map((finding) => finding.kind),
      ["expect", "idempotency"],
    );
  });

  it("a duplicate must be accepted with a 2xx: 299 is, 300 and a refused connection are not", async () => {
    assert.deepEqual((await run(ack, [reply(204), reply(299)], { duplicates: 1 })).events[0]!.duplicate, { attempt: 2, status: 299, passed: true });
    const redirected = await run(ack, [reply(204), reply(300)], { duplicates: 1 });
    assert.deepEqual(redirected.events[0]!.failures, [{ kind: "idempotency", message: "duplicate delivery (attempt 2): expected 2xx, got 300" }]);
    const lower = await run(ack, [reply(204), reply(199)], { duplicates: 1 });
    assert.deepEqual(lower.events[0]!.failures, [{ kind: "idempotency", message: "duplicate delivery (attempt 2): expected 2xx, got 199" }]);
    const refused = await run(ack, [reply(204), failure("network", "connection reset")], { duplicates: 1 });
    assert.deepEqual(refused.events[0]!.duplicate, { attempt: 2, status: undefined, passed: false });
    assert.deepEqual(refused.events[0]!.failures, [{ kind: "idempotency", message: "duplicate delivery (attempt 2): connection reset" }]);
  });

  it("no duplicate after a reply that was not accepted; no comparison with a first reply that could not be read", async () => {
    for (const status of [199, 300, 400, 500]) {
      const rejected = await run(ack, [reply(status)], { duplicates: 1 });
      assert.equal(rejected.requests.length, 1, String(status));
    }
    const rejected = await run(ack, [reply(400)], { duplicates: 1 });
    assert.equal(rejected.events[0]!.duplicate, undefined);
    const unreadable = await run(started, [reply(200, "not json", { "content-type": "application/json" }), speak("Hi")], { duplicates: 1 });
    assert.deepEqual(unreadable.events[0]!.duplicate, { attempt: 2, status: 200, passed: true });
    assert.ok(unreadable.events[0]!.failures.length > 0);
    assert.equal(
      unreadable.events[0]!.failures.some((finding) => finding.kind === "idempotency"),
      false,
    );
    // A reply whose instructions fail the schema is not compared either.
    const invalid = await run(started, [instructions({ type: "speak" }), speak("Hi")], { duplicates: 1 });
    assert.deepEqual(
      invalid.events[0]!.failures.map((finding) => finding.kind),
      ["schema"],
    );
    assert.deepEqual(invalid.events[0]!.duplicate, { attempt: 2, status: 200, passed: true });
  });
});

describe("what an event's result keeps", () => {
  it("the exchange: for a failure always, for a pass only with --verbose, never without evidence", async () => {
    assert.equal((await run(ack, [reply(204)])).events[0]!.exchange, undefined);
    assert.notEqual((await run(ack, [reply(204)], { verbose: true })).events[0]!.exchange, undefined);
    assert.notEqual((await run(ack, [reply(500)])).events[0]!.exchange, undefined);
    assert.equal((await run(ack, [reply(500)], {}, { evidence: false })).events[0]!.exchange, undefined);
    assert.equal((await run(ack, [reply(204), reply(500)], { duplicates: 1 }, { evidence: false })).events[0]!.exchange, undefined);
  });

  it("status, latency and the instructions' types from the reply", async () => {
    const { events } = await run(flow({ event_type: "call.started" }), [instructions({ type: "speak", text: "Hi" }, { type: "listen" })]);
    assert.equal(events[0]!.status, 200);
    assert.equal(events[0]!.latencyMs, 12);
    assert.deepEqual(events[0]!.instructionTypes, ["speak", "listen"]);
    assert.equal(events[0]!.passed, true);
  });

  it("--compare-replies on a built flow: a warning that there is no recorded reply", async () => {
    const { events } = await run(ack, [reply(204)], {}, { compareReplies: true });
    assert.deepEqual(events[0]!.warnings, [{ kind: "snapshot", message: "no recorded reply to compare with (recorded before vwh kept replies)" }]);
    assert.equal(events[0]!.passed, true);
  });

  it("--compare-replies on a recording: the recorded reply is compared, a recording without one warns", async () => {
    type Recorded = { status: number; headers: Record<string, string>; body: string; body_encoding: "utf8" };
    const raw = (response?: Recorded) => ({
      method: "POST",
      path: "/hooks/voice",
      headers: { "content-type": "application/json" },
      body: '{"event_type":"call.ended","event_id":"evt_r","call_id":"call_r","sequence":1,"timestamp":"2026-11-23T10:00:00Z","data":{}}',
      body_encoding: "utf8" as const,
      received_at: "2026-11-23T10:00:00Z",
      ...(response && { response }),
    });
    const recorded = (response?: Recorded): CallFlow => ({
      version: 1,
      name: "recorded",
      call: { call_id: "call_r" },
      events: [{ event_type: "call.ended", raw: raw(response) }],
    });
    const same = await run(recorded({ status: 204, headers: {}, body: "", body_encoding: "utf8" }), [reply(204)], {}, { compareReplies: true });
    assert.deepEqual([same.events[0]!.failures, same.events[0]!.warnings], [[], []]);
    const changed = await run(recorded({ status: 200, headers: {}, body: "", body_encoding: "utf8" }), [reply(204)], {}, { compareReplies: true });
    assert.equal(changed.events[0]!.passed, false);
    assert.deepEqual(
      changed.events[0]!.failures.map((finding) => finding.kind),
      ["snapshot"],
    );
    const none = await run(recorded(), [reply(204)], {}, { compareReplies: true });
    assert.deepEqual(none.events[0]!.warnings, [{ kind: "snapshot", message: "no recorded reply to compare with (recorded before vwh kept replies)" }]);
    const off = await run(recorded({ status: 200, headers: {}, body: "", body_encoding: "utf8" }), [reply(204)]);
    assert.deepEqual([off.events[0]!.failures, off.events[0]!.warnings], [[], []]);
  });

  it("recorded requests: the dead letter drops the recorded signature; a duplicate's reply is read against the same placeholder URL", async () => {
    const raw = (body: string, headers: Record<string, string>) => ({
      method: "POST",
      path: "/hooks/voice",
      headers,
      body,
      body_encoding: "utf8" as const,
      received_at: "2026-11-23T10:00:00Z",
    });
    const envelope = '{"event_type":"call.ended","event_id":"evt_r","call_id":"call_r","sequence":1,"timestamp":"2026-11-23T10:00:00Z","data":{}}';
    const signedRaw = raw(envelope, { "content-type": "application/json", "webhook-signature": "v1,old", "webhook-id": "evt_r", "x-trace": "t1" });
    const { dead } = await run(
      { version: 1, name: "recorded", call: { call_id: "call_r" }, events: [{ event_type: "call.ended", raw: signedRaw }] },
      [reply(503)],
      {
        retries: 0,
      },
    );
    // webhook-id, -timestamp and -signature are the scheme's: the replay signs again.
    assert.deepEqual(dead[0]!.raw.headers, { "x-trace": "t1", "content-type": "application/json" });
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const voice: CallFlow = {
      version: 1,
      name: "recorded twilio",
      platform: "twilio",
      call: { call_id: "CA1" },
      events: [{ event_type: "voice", raw: raw("CallSid=CA1&From=%2B15550100001&To=%2B15550100002", form) }],
    };
    // A relative action URL: the reply is read against a request URL, the recorded request's placeholder.
    const twiml = reply(200, '<Response><Gather action="/next" input="speech"><Say>Hi</Say></Gather></Response>', { "content-type": "text/xml" });
    const replayed = await run(voice, [twiml, twiml], { duplicates: 1 });
    assert.deepEqual(replayed.events[0]!.duplicate, { attempt: 2, status: 200, passed: true });
    assert.deepEqual(replayed.events[0]!.failures, []);
    const status: CallFlow = {
      ...voice,
      events: [{ event_type: "status", raw: raw("CallSid=CA1&CallStatus=completed&CallbackSource=call-progress-events&SequenceNumber=0", form) }],
    };
    const ignored = await run(status, [reply(500)]);
    assert.deepEqual(
      ignored.events[0]!.warnings.map((finding) => finding.message.split(" (set ")[0]),
      ["expected status 2xx, got 500 — twilio ignores the reply to status, so the call goes on"],
    );
  });

  it("a failed delivery of a webhook whose reply the platform ignores warns, unless --strict-events or an expected status", async () => {
    const status: CallFlow = { version: 1, name: "status", platform: "twilio", call: { call_id: "CA1" }, events: [{ event_type: "status" }] };
    const note = "twilio ignores the reply to status at http://127.0.0.1:9/hooks/voice, so the call goes on";
    const lenient = await run(status, [reply(500)]);
    assert.equal(lenient.events[0]!.passed, true);
    assert.deepEqual(lenient.events[0]!.failures, []);
    assert.equal(lenient.events[0]!.warnings.length, 1);
    assert.ok(lenient.events[0]!.warnings[0]!.message.startsWith(`expected status 2xx, got 500 — ${note}`), lenient.events[0]!.warnings[0]!.message);
    assert.equal(lenient.events[0]!.warnings[0]!.kind, "status");
    const strict = await run(status, [reply(500)], { strictEvents: true });
    assert.equal(strict.events[0]!.passed, false);
    assert.deepEqual(strict.events[0]!.warnings, []);
    const expected = await run({ ...status, events: [{ event_type: "status", expect: { status: 204 } }] }, [reply(500)]);
    assert.equal(expected.events[0]!.passed, false);
    const ok = await run(status, [reply(204)]);
    assert.deepEqual(ok.events[0]!.warnings, []);
    // An expectation on the reply is not a delivery failure: it stays one, while the reply's own problems are demoted.
    const expectingSpeech: CallFlow = { ...status, events: [{ event_type: "status", expect: { actions: ["speak"] } }] };
    const kindsOf = async (body: string) => {
      const event = (await run(expectingSpeech, [reply(200, body, { "content-type": "text/xml" })])).events[0]!;
      return { passed: event.passed, failures: event.failures.map((finding) => finding.kind), warnings: event.warnings.map((finding) => finding.kind) };
    };
    assert.deepEqual(await kindsOf("<Response><Bogus/></Response>"), { passed: true, failures: [], warnings: ["schema"] });
    assert.deepEqual(await kindsOf("not xml"), { passed: true, failures: [], warnings: ["reply"] });
    assert.deepEqual(await kindsOf("<Response><Hangup/></Response>"), { passed: false, failures: ["expect"], warnings: [] });
    // A rule the reply breaks (Vonage: a barge-in talk with no input after it) is demoted as well.
    const vonageStatus: CallFlow = {
      version: 1,
      name: "vonage event",
      platform: "vonage",
      call: { call_id: "c1" },
      events: [{ event_type: "answered", expect: { actions: ["speak"] } }],
    };
    const ncco = JSON.stringify([{ action: "talk", text: "Hi", bargeIn: true }]);
    const barge = (await run(vonageStatus, [reply(200, ncco, { "content-type": "application/json" })])).events[0]!;
    assert.deepEqual(
      { passed: barge.passed, failures: barge.failures.map((finding) => finding.kind), warnings: barge.warnings.map((finding) => finding.kind) },
      {
        passed: true,
        failures: [],
        warnings: ["rule"],
      },
    );
    // Each kind of delivery failure is demoted: a timeout, a network error, the retries running out.
    const kinds = async (replies: Reply[], retries: number) => (await run(status, replies, { retries, backoffMs: 0 })).events[0]!;
    const timedOut = await kinds([failure("timeout", "no reply within 10 ms")], 0);
    assert.deepEqual([timedOut.passed, timedOut.warnings.map((finding) => finding.kind)], [true, ["timeout"]]);
    const reset = await kinds([failure("network", "socket hang up")], 1);
    assert.deepEqual([reset.passed, reset.warnings.map((finding) => finding.kind)], [true, ["network", "delivery"]]);
  });
});
