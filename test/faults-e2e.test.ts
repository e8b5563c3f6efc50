/** End to end: vwh simulate's fault injection against real local handlers built to misbehave. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Webhook } from "standardwebhooks";
import { fixture, flowWith, json, loadExampleHandler, newSecret, runVwh, startListener, startServer, withTempDir, type ReceivedRequest } from "./helpers.js";

const secret = newSecret();
const env = { VWH_SECRET: secret };
const twoAcks = flowWith([{ event_type: "speech.detected" }, { event_type: "call.ended" }]);

async function withFlow<T>(content: string, work: (file: string, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const file = join(dir, "flow.json");
    await writeFile(file, content);
    return work(file, dir);
  });
}

const eventId = (request: ReceivedRequest) => (JSON.parse(request.body.toString("utf8")) as { event_id: string }).event_id;
const sequenceOf = (request: ReceivedRequest) => (JSON.parse(request.body.toString("utf8")) as { sequence: number }).sequence;

describe("retries", () => {
  it("a handler that fails once then succeeds passes with --retries and fails without", async () => {
    const seen = new Map<string, number>();
    const server = await startServer((request, response) => {
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      const count = (seen.get(eventId(request)) ?? 0) + 1;
      seen.set(eventId(request), count);
      response.writeHead(count === 1 ? 503 : 204).end();
    });
    try {
      await withFlow(twoAcks, async (file) => {
        const without = await runVwh(["simulate", file, "--url", server.url], { env });
        assert.equal(without.code, 1);
        assert.match(without.stdout, /expected status 2xx, got 503/);

        const before = server.requests.length;
        const withRetries = await runVwh(["simulate", file, "--url", server.url, "--retries", "2", "--backoff", "10", "--json"], { env });
        assert.equal(withRetries.code, 0, withRetries.stdout + withRetries.stderr);
        const report = JSON.parse(withRetries.stdout) as { summary: { retried: number }; flows: { events: { attempts: number; status: number }[] }[] };
        assert.deepEqual(report.flows[0]!.events.map((event) => [event.attempts, event.status]), [[2, 204], [2, 204]]);
        assert.equal(report.summary.retried, 2);
        // Every attempt: identical bytes and id, its own attempt number, a valid (fresh) signature.
        const [first, second] = server.requests.slice(before);
        assert.deepEqual(first!.body, second!.body);
        assert.equal(first!.headers["webhook-id"], second!.headers["webhook-id"]);
        assert.deepEqual([first!.headers["vwh-attempt"], second!.headers["vwh-attempt"]], ["1", "2"]);
        const text = await runVwh(["simulate", file, "--url", server.url, "--retries", "2", "--backoff", "10"], { env });
        assert.match(text.stdout, /204 +\d+ ms ×2/);
      });
    } finally {
      await server.close();
    }
  });

  it("a handler that always answers 503 exhausts the retries: dead letters written, exit 1, replayable", async () => {
    const down = await startServer((_request, response) => void response.writeHead(503).end());
    const up = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withFlow(twoAcks, async (file, dir) => {
        const dlq = join(dir, "dead.jsonl");
        const result = await runVwh(["simulate", file, "--url", down.url, "--retries", "2", "--backoff", "5", "--dlq", dlq], { env });
        assert.equal(result.code, 1);
        assert.match(result.stdout, /gave up after 3 attempts/);
        assert.match(result.stdout, /2 dead-lettered/);
        assert.equal(down.requests.length, 6);
        const lines = (await readFile(dlq, "utf8")).trim().split("\n").map((line) => JSON.parse(line) as { event_id: string; attempts: number; last_error: string; raw: { body: string } });
        assert.equal(lines.length, 2);
        assert.deepEqual(lines.map((line) => [line.attempts, line.last_error]), [[3, "status 503"], [3, "status 503"]]);
        assert.equal(lines[0]!.raw.body, down.requests[0]!.body.toString("utf8"));

        const replay = await runVwh(["simulate", dlq, "--url", up.url], { env });
        assert.equal(replay.code, 0, replay.stdout + replay.stderr);
        assert.deepEqual(up.requests.map((request) => request.body.toString("utf8")), lines.map((line) => line.raw.body));
        assert.deepEqual(up.requests.map((request) => request.headers["webhook-id"]), lines.map((line) => line.event_id));
      });
    } finally {
      await down.close();
      await up.close();
    }
  });

  it("honours Retry-After on 429 (scaled by --time-scale)", async () => {
    const server = await startServer((request, response) => {
      if (request.headers["vwh-attempt"] === "1") return void response.writeHead(429, { "retry-after": "1" }).end();
      response.writeHead(204).end();
    });
    try {
      await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const result = await runVwh(["simulate", file, "--url", server.url, "--retries", "1", "--backoff", "0", "--time-scale", "0.3"], { env });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const [first, second] = server.requests;
        // Lower bound only: 1 s × 0.3; timers never fire early.
        assert.ok(second!.receivedAt - first!.receivedAt >= 295, `waited ${second!.receivedAt - first!.receivedAt} ms`);
      });
    } finally {
      await server.close();
    }
  });

  it("stops at 410 and does not retry other 4xx", async () => {
    for (const [status, message] of [
      [410, /410 Gone: the platform stops retrying/],
      [400, /expected status 2xx, got 400/],
    ] as const) {
      const server = await startServer((_request, response) => void response.writeHead(status).end());
      try {
        await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
          const result = await runVwh(["simulate", file, "--url", server.url, "--retries", "3", "--backoff", "1"], { env });
          assert.equal(result.code, 1);
          assert.match(result.stdout, message);
          assert.equal(server.requests.length, 1, `${status} was retried`);
        });
      } finally {
        await server.close();
      }
    }
  });

  it("reports a reply slower than --timeout as a timeout, and retries it", async () => {
    const server = await startServer(async (_request, response) => {
      await sleep(600);
      if (!response.destroyed) response.writeHead(204).end();
    });
    try {
      await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const result = await runVwh(["simulate", file, "--url", server.url, "--timeout", "100", "--retries", "1", "--backoff", "1", "--json"], { env });
        assert.equal(result.code, 1);
        const report = JSON.parse(result.stdout) as { flows: { events: { attempts: number; failures: { kind: string; message: string }[] }[] }[] };
        const event = report.flows[0]!.events[0]!;
        assert.equal(event.attempts, 2);
        assert.deepEqual(event.failures[0], { kind: "timeout", path: null, message: "no reply within 100 ms" });
        assert.equal(server.requests.length, 2);
      });
    } finally {
      await server.close();
    }
  });

  it("applies a platform --profile, with --time-scale compressing its schedule", async () => {
    const server = await startServer((_request, response) => void response.writeHead(503).end());
    try {
      await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const twilio = await runVwh(["simulate", file, "--url", server.url, "--profile", "twilio", "--json"], { env });
        const report = JSON.parse(twilio.stdout) as { timeout_ms: number; retries: number; profile: string; flows: { events: { attempts: number }[] }[] };
        assert.deepEqual([report.timeout_ms, report.retries, report.profile, report.flows[0]!.events[0]!.attempts], [15000, 1, "twilio", 2]);
        const before = server.requests.length;
        // The Standard Webhooks schedule (5 s … 24 h, 9 retries) at a millionth of real time.
        const standard = await runVwh(["simulate", file, "--url", server.url, "--profile", "standard", "--time-scale", "0.000001"], { env });
        assert.equal(standard.code, 1);
        assert.equal(server.requests.length - before, 10);
        const overridden = await runVwh(["simulate", file, "--url", server.url, "--profile", "vonage", "--retries", "0", "--timeout", "500", "--json"], { env });
        const custom = JSON.parse(overridden.stdout) as { timeout_ms: number; retries: number };
        assert.deepEqual([custom.timeout_ms, custom.retries], [500, 0]);
        const unknown = await runVwh(["simulate", file, "--url", server.url, "--profile", "skype"], { env });
        assert.equal(unknown.code, 2);
        assert.match(unknown.stderr, /--profile: expected one of "twilio", "vonage", "telnyx", "retell", "vapi", "standard", got "skype"/);
      });
    } finally {
      await server.close();
    }
  });

  it("retries a closed port, then exits 3 and dead-letters the event", async () => {
    const closed = await startServer(() => {});
    await closed.close();
    await withFlow(twoAcks, async (file, dir) => {
      const dlq = join(dir, "dead.jsonl");
      const result = await runVwh(["simulate", file, "--url", closed.url, "--retries", "1", "--backoff", "1", "--dlq", dlq], { env });
      assert.equal(result.code, 3);
      assert.match(result.stdout, /could not reach the handler: connection refused/);
      assert.equal((await readFile(dlq, "utf8")).trim().split("\n").length, 1);
    });
  });
});

describe("duplicates, reordering, seeds, --bail", () => {
  it("catches a handler that answers a duplicate differently (exit 1, diff shown)", async () => {
    const server = await startServer((request, response) => {
      const text = request.headers["vwh-attempt"] === "1" ? "Your appointment is booked." : "Your appointment is booked twice.";
      json(response, 200, { instructions: [{ type: "speak", text }, { type: "listen" }] });
    });
    try {
      await withFlow(flowWith([{ event_type: "call.started" }]), async (file) => {
        const result = await runVwh(["simulate", file, "--url", server.url, "--duplicates", "1"], { env });
        assert.equal(result.code, 1);
        assert.match(result.stdout, /duplicate delivery \(attempt 2\) got different instructions — not idempotent on event_id:/);
        assert.match(result.stdout, /instructions\[0\]\.text: "Your appointment is booked\." → "Your appointment is booked twice\."/);
        assert.deepEqual(server.requests.map((request) => request.headers["vwh-attempt"]), ["1", "2"]);
        assert.equal(eventId(server.requests[0]!), eventId(server.requests[1]!));
      });
    } finally {
      await server.close();
    }
  });

  it("fails a duplicate that is refused", async () => {
    const server = await startServer((request, response) => void response.writeHead(request.headers["vwh-attempt"] === "1" ? 204 : 409).end());
    try {
      await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const result = await runVwh(["simulate", file, "--url", server.url, "--duplicates", "1"], { env });
        assert.equal(result.code, 1);
        assert.match(result.stdout, /duplicate delivery \(attempt 2\): expected 2xx, got 409/);
      });
    } finally {
      await server.close();
    }
  });

  it("passes the idempotent reference handler under --duplicates 1 and --reorder, the same way for the same --seed", async () => {
    const example = await loadExampleHandler();
    const server = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    const seen: { sequence: number; attempt: string }[][] = [];
    const recorder = await startServer(async (request, response) => {
      seen.at(-1)!.push({ sequence: sequenceOf(request), attempt: String(request.headers["vwh-attempt"]) });
      response.writeHead(204).end();
    });
    try {
      const good = await runVwh(["simulate", fixture("reschedule.json"), "--url", server.url, "--duplicates", "1", "--reorder", "3", "--seed", "42"], { env });
      assert.equal(good.code, 0, good.stdout + good.stderr);
      assert.match(good.stdout, /8 duplicated/);
      assert.match(good.stdout, /seed 42/);

      const acks = flowWith(Array.from({ length: 8 }, () => ({ event_type: "speech.detected" })));
      await withFlow(acks, async (file) => {
        for (const seed of ["7", "7", "8"]) {
          seen.push([]);
          const result = await runVwh(["simulate", file, "--url", recorder.url, "--duplicates", "0.5", "--reorder", "4", "--seed", seed], { env });
          assert.equal(result.code, 0, result.stdout);
        }
      });
      assert.deepEqual(seen[0], seen[1], "the same seed duplicates and shuffles the same events");
      assert.notDeepEqual(seen[0], seen[2], "another seed makes other choices");
      const sequences = seen[0]!.filter((entry) => entry.attempt === "1").map((entry) => entry.sequence);
      assert.deepEqual([...sequences].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8], "every event delivered once, sequences kept");
      assert.notDeepEqual(sequences, [1, 2, 3, 4, 5, 6, 7, 8], "reordered within windows");
      assert.deepEqual(sequences.slice(0, 4).sort((a, b) => a - b), [1, 2, 3, 4]);
    } finally {
      await server.close();
      await recorder.close();
    }
  });

  it("--bail stops at the first failed event", async () => {
    const server = await startServer((_request, response) => void response.writeHead(500).end());
    try {
      await withFlow(flowWith([{ event_type: "speech.detected" }, { event_type: "speech.ended" }, { event_type: "call.ended" }]), async (file) => {
        const result = await runVwh(["simulate", file, "--url", server.url, "--bail"], { env });
        assert.equal(result.code, 1);
        assert.equal(server.requests.length, 1);
        assert.match(result.stdout, /stopped at the first failure \(--bail\)/);
        const all = await runVwh(["simulate", file, "--url", server.url], { env });
        assert.equal(all.code, 1);
        assert.equal(server.requests.length, 4, "without --bail the call carries on");
      });
    } finally {
      await server.close();
    }
  });

  it("rejects fault flags out of range (exit 2)", async () => {
    await withFlow(flowWith([{ event_type: "call.ended" }]), async (file) => {
      for (const [flag, value, message] of [
        ["--duplicates", "1.5", /--duplicates: expected value <= 1/],
        ["--duplicates", "half", /--duplicates: expected a share between 0 and 1/],
        ["--reorder", "-2", /error: unknown option '-2'|--reorder: expected a whole number of events/],
        ["--retries", "x", /--retries: expected a whole number of retries/],
        ["--time-scale", "0", /--time-scale: expected value > 0/],
        ["--seed", "abc", /--seed: expected a whole number/],
      ] as const) {
        const result = await runVwh(["simulate", file, "--url", "http://127.0.0.1:9/", flag, value], { env });
        assert.equal(result.code, 2, `${flag} ${value}: ${result.stderr}`);
        assert.match(result.stderr, message);
      }
    });
  });
});

