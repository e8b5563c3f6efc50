/**
 * The simulation engine's fault injection, in process against real local handlers built to misbehave:
 * retries, Retry-After, profiles, timeouts, dead letters, duplicates, reordering, seeds and --bail. The
 * engine runs on a fake clock, so every wait is asserted exactly and none is slept.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { simulate, type CallFlow, type SimulateOptions } from "../../src/api.js";
import { appendDeadLetter } from "../../src/files/dead-letters.js";
import { buildRetryPolicy } from "../../src/engine/retry-policy.js";
import { createColors } from "../../src/ui/color.js";
import { formatEventLine, formatSummary } from "../../src/ui/simulate-report.js";
import {
  fakeClock,
  fixture,
  json,
  loadExampleHandler,
  newSecret,
  parseArgv,
  startListener,
  startServer,
  withTempDir,
  withServer,
  refusingServer,
  type ReceivedRequest,
  type TestServer,
} from "../helpers.js";

const secret = newSecret();
const flow = (events: CallFlow["events"]): CallFlow => ({ version: 1, name: "test flow", call: { call_id: "call_test" }, events });
const twoAcks = flow([{ event_type: "speech.detected" }, { event_type: "call.ended" }]);
const oneAck = flow([{ event_type: "call.ended" }]);

const eventId = (request: ReceivedRequest) => (JSON.parse(request.body.toString("utf8")) as { event_id: string }).event_id;
const sequenceOf = (request: ReceivedRequest) => (JSON.parse(request.body.toString("utf8")) as { sequence: number }).sequence;

/** Runs the engine against `server` on a fake clock; `text` is the report as the CLI prints it. */
async function simulateAgainst(server: TestServer, flows: (string | CallFlow)[], options: Partial<SimulateOptions> = {}) {
  const clock = fakeClock();
  const result = await simulate(flows, { url: server.url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait, ...options });
  const colors = createColors(false);
  const lines = result.flows.flatMap((flowResult) => flowResult.events.map((event) => formatEventLine(event, colors, options.budgetMs ?? 200)));
  return { result, waits: clock.waits, text: `${lines.join("\n")}\n${formatSummary(result, colors)}` };
}

describe("retries", () => {
  it("a handler that fails once then succeeds passes with retries and fails without", async () => {
    const seen = new Map<string, number>();
    await withServer(
      (request, response) => {
        new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
        const count = (seen.get(eventId(request)) ?? 0) + 1;
        seen.set(eventId(request), count);
        response.writeHead(count === 1 ? 503 : 204).end();
      },
      async (server) => {
        const without = await simulateAgainst(server, [twoAcks]);
        assert.equal(without.result.summary.failed, 2);
        assert.match(without.text, /expected status 2xx, got 503/);

        seen.clear();
        const before = server.requests.length;
        const withRetries = await simulateAgainst(server, [twoAcks], { retries: 2, backoffMs: 10 });
        assert.deepEqual(
          withRetries.result.flows[0]!.events.map((event) => [event.attempts, event.status]),
          [
            [2, 204],
            [2, 204],
          ],
        );
        assert.equal(withRetries.result.summary.retried, 2);
        assert.match(withRetries.text, /204 +\d+ ms ×2/);
        // Backoff with equal jitter: between half and all of 10 ms before retry 1.
        assert.equal(withRetries.waits.length, 2);
        assert.ok(
          withRetries.waits.every((wait) => wait >= 5 && wait <= 10),
          `waits ${withRetries.waits.join()}`,
        );
        // Every attempt: identical bytes and id, its own attempt number, a valid (fresh) signature.
        const [first, second] = server.requests.slice(before);
        assert.deepEqual(first!.body, second!.body);
        assert.equal(first!.headers["webhook-id"], second!.headers["webhook-id"]);
        assert.deepEqual([first!.headers["vwh-attempt"], second!.headers["vwh-attempt"]], ["1", "2"]);
      },
    );
  });

  it("--backoff doubles per retry, with jitter between half and all of it", async () => {
    await withServer(
      (_request, response) => void response.writeHead(503).end(),
      async (server) => {
        const { waits } = await simulateAgainst(server, [oneAck], { retries: 3, backoffMs: 400 });
        assert.equal(waits.length, 3);
        for (const [index, wait] of waits.entries()) {
          const full = 400 * 2 ** index;
          assert.ok(wait >= full / 2 && wait <= full, `retry ${index + 1} waited ${wait} ms, expected ${full / 2}..${full}`);
        }
      },
    );
  });

  it("a handler that always answers 503 exhausts the retries: dead letters written, replayable", async () => {
    const down = await startServer((_request, response) => void response.writeHead(503).end());
    const up = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const dlq = join(dir, "dead.jsonl");
        const { result, text } = await simulateAgainst(down, [twoAcks], { retries: 2, backoffMs: 5, deadLetter: (entry) => appendDeadLetter(dlq, entry) });
        assert.equal(result.flows[0]!.passed, false);
        assert.match(text, /gave up after 3 attempts/);
        assert.match(text, /2 dead-lettered/);
        assert.equal(down.requests.length, 6);
        const lines = (await readFile(dlq, "utf8"))
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as { event_id: string; attempts: number; last_error: string; raw: { body: string } });
        assert.deepEqual(
          lines.map((line) => [line.attempts, line.last_error]),
          [
            [3, "status 503"],
            [3, "status 503"],
          ],
        );
        assert.equal(lines[0]!.raw.body, down.requests[0]!.body.toString("utf8"));

        const replay = await simulateAgainst(up, [dlq]);
        assert.equal(replay.result.summary.passed, 2);
        assert.deepEqual(
          up.requests.map((request) => request.body.toString("utf8")),
          lines.map((line) => line.raw.body),
        );
        assert.deepEqual(
          up.requests.map((request) => request.headers["webhook-id"]),
          lines.map((line) => line.event_id),
        );
      });
    } finally {
      await down.close();
      await up.close();
    }
  });

  it("honours Retry-After on 429, scaled by the time scale", async () => {
    await withServer(
      (request, response) => void response.writeHead(request.headers["vwh-attempt"] === "1" ? 429 : 204, { "retry-after": "1" }).end(),
      async (server) => {
        const { result, waits } = await simulateAgainst(server, [oneAck], { retries: 1, backoffMs: 0, timeScale: 0.3 });
        assert.equal(result.summary.passed, 1);
        assert.deepEqual(waits, [300]);
      },
    );
  });

  it("stops at 410 and does not retry other 4xx", async () => {
    for (const [status, message] of [
      [410, /410 Gone: the platform stops retrying/],
      [400, /expected status 2xx, got 400/],
    ] as const) {
      await withServer(
        (_request, response) => void response.writeHead(status).end(),
        async (server) => {
          const { text, waits } = await simulateAgainst(server, [oneAck], { retries: 3, backoffMs: 1 });
          assert.match(text, message);
          assert.equal(server.requests.length, 1, `${status} was retried`);
          assert.deepEqual(waits, []);
        },
      );
    }
  });

  it("reports a reply slower than the timeout as a timeout, and retries it", async () => {
    // Never answers: the timeout is the only way out (long enough that a loaded machine still delivers each attempt).
    await withServer(
      () => {},
      async (server) => {
        const { result } = await simulateAgainst(server, [oneAck], { timeoutMs: 250, retries: 1, backoffMs: 1 });
        const event = result.flows[0]!.events[0]!;
        assert.equal(event.attempts, 2);
        assert.deepEqual(event.failures[0], { kind: "timeout", message: "no reply within 250 ms" });
        assert.equal(server.requests.length, 2);
      },
    );
  });

  it("applies a platform profile; explicit settings win; the standard schedule runs on the clock", async () => {
    await withServer(
      (_request, response) => void response.writeHead(503).end(),
      async (server) => {
        const twilio = await simulateAgainst(server, [oneAck], { profile: "twilio" });
        assert.equal(twilio.result.flows[0]!.events[0]!.attempts, 2);
        const standard = await simulateAgainst(server, [oneAck], { profile: "standard" });
        assert.equal(standard.result.flows[0]!.events[0]!.attempts, 10);
        // The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h — waited on the fake clock.
        const minute = 60_000;
        assert.deepEqual(standard.waits, [
          5_000,
          5 * minute,
          30 * minute,
          120 * minute,
          300 * minute,
          600 * minute,
          840 * minute,
          1200 * minute,
          1440 * minute,
        ]);
        const scaled = await simulateAgainst(server, [oneAck], { profile: "standard", timeScale: 0.001 });
        assert.deepEqual(scaled.waits.slice(0, 2), [5, 300]);
        const overridden = await simulateAgainst(server, [oneAck], { profile: "vonage", retries: 0 });
        assert.equal(overridden.result.flows[0]!.events[0]!.attempts, 1);
      },
    );
  });

  it("retries a closed port, then stops the run as unreachable and dead-letters the event", async () => {
    const closed = await refusingServer();
    const dead: string[] = [];
    const { result, text } = await simulateAgainst(closed, [twoAcks], {
      retries: 1,
      backoffMs: 1,
      deadLetter: async (entry) => void dead.push(entry.event_id),
    });
    assert.match(result.unreachable ?? "", /connection refused/);
    assert.match(text, /could not reach the handler: connection refused/);
    assert.equal(result.flows[0]!.events[0]!.attempts, 2);
    assert.equal(dead.length, 1);
  });
});

describe("duplicates, reordering, seeds, bail", () => {
  it("catches a handler that answers a duplicate differently (diff shown)", async () => {
    await withServer(
      (request, response) => {
        const text = request.headers["vwh-attempt"] === "1" ? "Your appointment is booked." : "Your appointment is booked twice.";
        json(response, 200, { instructions: [{ type: "speak", text }, { type: "listen" }] });
      },
      async (server) => {
        const { result, text } = await simulateAgainst(server, [flow([{ event_type: "call.started" }])], { duplicates: 1 });
        assert.equal(result.summary.failed, 1);
        assert.match(text, /duplicate delivery \(attempt 2\) got different instructions — not idempotent on event_id:/);
        assert.match(text, /instructions\[0\]\.text: "Your appointment is booked\." → "Your appointment is booked twice\."/);
        assert.deepEqual(
          server.requests.map((request) => request.headers["vwh-attempt"]),
          ["1", "2"],
        );
        assert.equal(eventId(server.requests[0]!), eventId(server.requests[1]!));
      },
    );
  });

  it("fails a duplicate that is refused", async () => {
    await withServer(
      (request, response) => void response.writeHead(request.headers["vwh-attempt"] === "1" ? 204 : 409).end(),
      async (server) => {
        const { text } = await simulateAgainst(server, [oneAck], { duplicates: 1 });
        assert.match(text, /duplicate delivery \(attempt 2\): expected 2xx, got 409/);
      },
    );
  });

  it("passes the idempotent reference handler under duplicates and reordering", async () => {
    const example = await loadExampleHandler();
    const server = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    try {
      const { result, text } = await simulateAgainst(server, [fixture("reschedule.json")], { duplicates: 1, reorder: 3, seed: 42 });
      assert.equal(result.summary.failed, 0, text);
      assert.match(text, /8 duplicated/);
      assert.match(text, /seed 42/);
    } finally {
      await server.close();
    }
  });

  it("the same seed duplicates and shuffles the same events; another seed makes other choices", async () => {
    const seen: { sequence: number; attempt: string }[][] = [];
    await withServer(
      (request, response) => {
        seen.at(-1)!.push({ sequence: sequenceOf(request), attempt: String(request.headers["vwh-attempt"]) });
        response.writeHead(204).end();
      },
      async (server) => {
        const acks = flow(Array.from({ length: 8 }, () => ({ event_type: "speech.detected" })));
        for (const seed of [7, 7, 8]) {
          seen.push([]);
          const { result } = await simulateAgainst(server, [acks], { duplicates: 0.5, reorder: 4, seed });
          assert.equal(result.summary.failed, 0);
        }
      },
    );
    assert.deepEqual(seen[0], seen[1], "the same seed duplicates and shuffles the same events");
    assert.notDeepEqual(seen[0], seen[2], "another seed makes other choices");
    const sequences = seen[0]!.filter((entry) => entry.attempt === "1").map((entry) => entry.sequence);
    assert.deepEqual(
      [...sequences].sort((a, b) => a - b),
      [1, 2, 3, 4, 5, 6, 7, 8],
      "every event delivered once, sequences kept",
    );
    assert.notDeepEqual(sequences, [1, 2, 3, 4, 5, 6, 7, 8], "reordered within windows");
    assert.deepEqual(
      sequences.slice(0, 4).sort((a, b) => a - b),
      [1, 2, 3, 4],
    );
  });

  it("bail stops at the first failed event; without it the call carries on", async () => {
    await withServer(
      (_request, response) => void response.writeHead(500).end(),
      async (server) => {
        const three = flow([{ event_type: "speech.detected" }, { event_type: "speech.ended" }, { event_type: "call.ended" }]);
        const bailed = await simulateAgainst(server, [three], { bail: true });
        assert.equal(server.requests.length, 1);
        assert.match(bailed.text, /stopped at the first failure \(--bail\)/);
        await simulateAgainst(server, [three]);
        assert.equal(server.requests.length, 4, "without bail the call carries on");
      },
    );
  });
});

describe("timing, on the injected clock", () => {
  it("--realtime waits each event's after_ms before sending it; without it nothing waits", async () => {
    await withServer(
      (_request, response) => void response.writeHead(204).end(),
      async (server) => {
        const paced = flow([{ event_type: "speech.detected" }, { event_type: "speech.ended", after_ms: 300 }, { event_type: "call.ended", after_ms: 1200 }]);
        assert.deepEqual((await simulateAgainst(server, [paced], { realtime: true })).waits, [300, 1200]);
        assert.deepEqual((await simulateAgainst(server, [paced])).waits, []);
      },
    );
  });

  it("signs each attempt at the clock's time, and stamps events with platform time", async () => {
    await withServer(
      (_request, response) => void response.writeHead(204).end(),
      async (server) => {
        const clock = fakeClock(Date.now() - 30_000);
        await simulate([flow([{ event_type: "speech.detected" }, { event_type: "call.ended", after_ms: 150 }])], {
          url: server.url,
          secrets: [secret],
          now: clock.now,
          wait: clock.wait,
        });
        const [first, second] = server.requests;
        assert.equal(first!.headers["webhook-timestamp"], String(Math.floor(clock.now() / 1000)));
        new Webhook(secret).verify(first!.body, first!.headers as Record<string, string>);
        const stamps = [first!, second!].map((request) => Date.parse((JSON.parse(request.body.toString("utf8")) as { timestamp: string }).timestamp));
        assert.deepEqual(stamps, [clock.now(), clock.now() + 150]);
      },
    );
  });

  it("warns over the latency budget, and fails with strict latency (handler time on the fake clock)", async () => {
    const clock = fakeClock();
    await withServer(
      (_request, response) => {
        clock.advance(80);
        response.writeHead(204).end();
      },
      async (server) => {
        const lenient = await simulate([oneAck], { url: server.url, secrets: [secret], budgetMs: 20, now: clock.now, wait: clock.wait });
        const event = lenient.flows[0]!.events[0]!;
        assert.equal(event.latencyMs, 80);
        assert.deepEqual([event.passed, lenient.summary.overBudget], [true, 1]);
        assert.deepEqual(event.warnings, [{ kind: "budget", message: "latency 80 ms over budget 20 ms" }]);
        const strict = await simulate([oneAck], { url: server.url, secrets: [secret], budgetMs: 20, strictLatency: true, now: clock.now, wait: clock.wait });
        assert.deepEqual(strict.flows[0]!.events[0]!.failures, [{ kind: "budget", message: "latency 80 ms over budget 20 ms" }]);
        assert.deepEqual(strict.flows[0]!.events[0]!.warnings, []);
        const text = formatEventLine(strict.flows[0]!.events[0]!, createColors(false), 20);
        assert.match(text, /call\.ended +204 +80 ms\n +latency 80 ms over budget 20 ms\n +sent {3}POST [^\n]+\n[\s\S]*\n +reply {2}204 \(0 bytes\)$/);
        assert.match(formatSummary(lenient, createColors(false)), /1 over budget/);
      },
    );
  });
});

describe("fault flags on the command line", () => {
  it("explicit settings win over the profile, which wins over the defaults", () => {
    assert.deepEqual(buildRetryPolicy({}), { timeoutMs: 10_000, retries: 0, backoffMs: 500, timeScale: 1 });
    assert.deepEqual(buildRetryPolicy({ profile: "twilio" }), { timeoutMs: 15_000, retries: 1, backoffMs: 0, timeScale: 1 });
    assert.deepEqual(buildRetryPolicy({ profile: "vonage", retries: 0, timeoutMs: 500, backoffMs: 250, timeScale: 0.5 }), {
      timeoutMs: 500,
      retries: 0,
      backoffMs: 250,
      timeScale: 0.5,
    });
    // An explicit backoff replaces a profile's fixed schedule.
    assert.ok(buildRetryPolicy({ profile: "standard" }).scheduleMs);
    assert.equal(buildRetryPolicy({ profile: "standard", backoffMs: 100 }).scheduleMs, undefined);
  });

  it("map to the engine's settings", async () => {
    const { parseOptions } = await import("../../src/cli/parse-options.js");
    const { simulateOptionsSchema } = await import("../../src/commands/simulate.js");
    const parsed = await parseArgv([
      "simulate",
      "f.json",
      "--retries",
      "3",
      "--backoff",
      "250",
      "--profile",
      "telnyx",
      "--time-scale",
      "0.5",
      "--duplicates",
      "0.25",
      "--reorder",
      "4",
      "--seed",
      "9",
      "--bail",
      "--dlq",
      "d.jsonl",
    ]);
    const options = parseOptions(simulateOptionsSchema, parsed.options);
    assert.deepEqual(
      [options.retries, options.backoff, options.profile, options.timeScale, options.duplicates, options.reorder, options.seed, options.bail, options.dlq],
      [3, 250, "telnyx", 0.5, 0.25, 4, 9, true, "d.jsonl"],
    );
  });

  it("rejects values out of range with one line naming the flag", async () => {
    const { parseOptions } = await import("../../src/cli/parse-options.js");
    const { simulateOptionsSchema } = await import("../../src/commands/simulate.js");
    for (const [flag, value, message] of [
      ["--duplicates", "1.5", /--duplicates: expected value <= 1/],
      ["--duplicates", "half", /--duplicates: expected a share between 0 and 1/],
      ["--retries", "x", /--retries: expected a whole number of retries/],
      ["--time-scale", "0", /--time-scale: expected value > 0/],
      ["--seed", "abc", /--seed: expected a whole number/],
      ["--profile", "skype", /--profile: expected one of "twilio", "vonage", "telnyx", "retell", "vapi", "standard", got "skype"/],
    ] as const) {
      const parsed = await parseArgv(["simulate", "f.json", flag, value]);
      assert.throws(() => parseOptions(simulateOptionsSchema, parsed.options), { message }, `${flag} ${value}`);
    }
    const negative = await parseArgv(["simulate", "f.json", "--reorder", "-2"]);
    assert.throws(() => parseOptions(simulateOptionsSchema, negative.options), { message: /--reorder: expected/ });
  });
});
