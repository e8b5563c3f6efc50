/** Unit tests of the fault-injection pieces: seeded randomness, retry policy, reordering, JSON diff, DLQ. */
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { appendDeadLetter, loadDeadLetters, type DeadLetter } from "../../src/files/dead-letters.js";
import { diffJson } from "../../src/lib/json-diff.js";
import { createRandom } from "../../src/core/random.js";
import { classifyAttempt, parseRetryAfter, profiles, retryDelayMs, type RetryPolicy } from "../../src/engine/retry-policy.js";
import { deliveryOrder } from "../../src/engine/plan.js";
import { withTempDir } from "../helpers.js";

describe("seeded random", () => {
  it("gives the same sequence for the same seed and another for another seed", () => {
    const draw = (seed: number) => Array.from({ length: 5 }, createRandom(seed).next);
    assert.deepEqual(draw(42), draw(42));
    assert.notDeepEqual(draw(42), draw(43));
    assert.ok(draw(7).every((value) => value >= 0 && value < 1));
  });

  it("shuffles within reorder windows only, keeping every event", () => {
    const events = [1, 2, 3, 4, 5, 6, 7];
    const ordered = deliveryOrder(events, 3, createRandom(1));
    assert.deepEqual([...ordered].sort(), events);
    assert.deepEqual(ordered.slice(0, 3).sort(), [1, 2, 3]);
    assert.deepEqual(ordered.slice(3, 6).sort(), [4, 5, 6]);
    assert.deepEqual(ordered[6], 7);
    assert.deepEqual(deliveryOrder(events, 0, createRandom(1)), events);
    assert.deepEqual(deliveryOrder(events, 7, createRandom(9)), deliveryOrder(events, 7, createRandom(9)));
  });
});

describe("retry policy", () => {
  const policy: RetryPolicy = { timeoutMs: 1000, retries: 3, backoffMs: 100, timeScale: 1 };

  it("retries connection errors, timeouts, 5xx, 408 and 429; stops on 410; other 4xx are final", () => {
    const response = (status: number, headers: Record<string, string> = {}) => classifyAttempt({ kind: "response", status, headers }, 0);
    assert.deepEqual(classifyAttempt({ kind: "unreachable" }, 0), { retry: true });
    assert.deepEqual(classifyAttempt({ kind: "timeout" }, 0), { retry: true });
    for (const status of [500, 502, 503, 408, 429]) assert.equal(response(status).retry, true, String(status));
    for (const status of [200, 204, 400, 401, 404, 422]) assert.equal(response(status).retry, false, String(status));
    assert.deepEqual(response(410), { retry: false, reason: "410 Gone: the platform stops retrying" });
    assert.deepEqual(response(429, { "retry-after": "2" }), { retry: true, retryAfterMs: 2000 });
  });

  it("parses Retry-After as seconds or an HTTP date", () => {
    assert.equal(parseRetryAfter("3", 0), 3000);
    assert.equal(parseRetryAfter(new Date(10_000).toUTCString(), 4_000), 6_000);
    assert.equal(parseRetryAfter("soon", 0), undefined);
    assert.equal(parseRetryAfter(undefined, 0), undefined);
  });

  it("backs off exponentially with jitter, scaled; Retry-After and schedules take precedence", () => {
    const random = createRandom(5);
    for (let retry = 1; retry <= 4; retry++) {
      const delay = retryDelayMs(policy, retry, random);
      const full = 100 * 2 ** (retry - 1);
      assert.ok(delay >= full / 2 && delay <= full, `retry ${retry}: ${delay}`);
    }
    assert.equal(retryDelayMs({ ...policy, timeScale: 0.5 }, 1, random, 4000), 2000);
    const standard: RetryPolicy = { ...profiles.standard!, timeScale: 0.001 };
    assert.deepEqual(
      [1, 2, 3, 9].map((retry) => retryDelayMs(standard, retry, random)),
      [5, 300, 1800, 86400],
    );
  });
});

describe("diffJson", () => {
  it("lists each differing path with both values", () => {
    assert.deepEqual(diffJson({ a: 1 }, { a: 1 }), []);
    assert.deepEqual(diffJson([{ type: "speak", text: "Hi" }, { type: "listen" }], [{ type: "speak", text: "Hello" }], "instructions"), [
      'instructions[0].text: "Hi" → "Hello"',
      'instructions[1].type: "listen" → (absent)',
    ]);
  });
});

describe("dead-letter files", () => {
  const entry = (id: string): DeadLetter => ({
    flow: "f.json",
    event_type: "call.started",
    event_id: id,
    call_id: "call_1",
    sequence: 1,
    attempts: 3,
    last_error: "status 503",
    dead_at: "2026-11-23T10:00:00.000Z",
    raw: {
      method: "POST",
      path: "/hook",
      headers: { "content-type": "application/json" },
      body: `{"event_id":"${id}"}`,
      received_at: "2026-11-23T10:00:00.000Z",
    },
  });

  it("appends whole lines and loads them back as a replayable flow", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "dead.jsonl");
      await appendDeadLetter(file, entry("evt_1"));
      await appendDeadLetter(file, entry("evt_2"));
      const text = await readFile(file, "utf8");
      assert.equal(text.split("\n").length, 3);
      assert.ok(text.endsWith("\n"));
      const loaded = await loadDeadLetters(file, "vwh");
      assert.deepEqual(
        loaded.flow.events!.map((event) => event.raw?.body),
        ['{"event_id":"evt_1"}', '{"event_id":"evt_2"}'],
      );
    });
  });

  it("names the line of a torn or invalid entry", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "dead.jsonl");
      await writeFile(file, `${JSON.stringify(entry("evt_1"))}\n{"flow": "f.json", "event_ty`);
      await assert.rejects(loadDeadLetters(file, "vwh"), { message: `${file}:2: invalid JSON line (expected one dead-letter entry per line)` });
      await writeFile(file, `${JSON.stringify({ ...entry("evt_1"), attempts: 0 })}\n`);
      await assert.rejects(loadDeadLetters(file, "vwh"), { message: `${file}:1: attempts: expected value >= 1, got 0` });
      await writeFile(file, "\n");
      await assert.rejects(loadDeadLetters(file, "vwh"), { message: `${file}: no dead letters to replay` });
    });
  });
});
