/**
 * Load mode on its two transports and on worker threads: the same seeded run gives the same report
 * (counts, retries, duplicates, dead letters, failures by kind and their messages) through undici and
 * through the fast client, and --workers merges the threads' aggregates exactly.
 */
import assert from "node:assert/strict";
import { createHistogram } from "node:perf_hooks";
import { after, describe, it } from "node:test";
import { createSimulationOptions } from "../../src/api.js";
import type { DeadLetter } from "../../src/files/dead-letters.js";
import { createDispatcher } from "../../src/transport/undici.js";
import { flowFromValue, type LoadedFlow } from "../../src/files/call-flow.js";
import { LoadStats } from "../../src/engine/load/stats.js";
import { runFastLoad, runLoad, threadCount, warmupCalls, type LoadResult } from "../../src/engine/load/run.js";
import { runLoadInWorkers, shareOf } from "../../src/engine/load/workers.js";
import { pickSigningOptions } from "../../src/signing/options.js";
import { optionsSchema } from "../../src/cli/settings.js";
import { type SimulationOptions } from "../../src/engine/options.js";
import { json, newSecret, startServer, type TestServer } from "../helpers.js";

const secret = newSecret();
const dispatcher = createDispatcher(8);
after(() => dispatcher.close());

const flow: LoadedFlow = await flowFromValue(
  {
    version: 1,
    name: "paths",
    events: [
      { event_type: "call.started" },
      { event_type: "speech.transcribed", payload: { text: "hi", is_final: true } },
      { event_type: "dtmf.received", payload: { digits: "1" } },
      { event_type: "call.ended" },
    ],
  },
  "paths.json",
);

/** Answers by event and attempt, never by arrival order, so both paths meet the same handler. */
function flakyHandler(): Promise<TestServer> {
  return startServer((request, response) => {
    const event = JSON.parse(request.body.toString("utf8")) as { event_type: string };
    const attempt = Number(request.headers["vwh-attempt"]);
    switch (event.event_type) {
      case "call.started":
        return json(response, 200, { instructions: [{ type: "speak", text: "Hello" }, { type: "listen" }] });
      case "speech.transcribed":
        // Retried once, then a reply that fails the schema.
        if (attempt === 1) return void response.writeHead(503).end();
        return json(response, 200, { instructions: [{ type: "speak" }] });
      case "dtmf.received":
        // The connection drops on the first attempt (a network failure), answered on the retry.
        // (Timeouts are left out: under a loaded machine, undici's path showed stray ones at 100 ms.)
        if (attempt === 1) return void response.socket?.destroy();
        return json(response, 200, { instructions: [{ type: "listen" }] });
      default:
        // Always 500: exhausts its retries and is dead-lettered.
        return void response.writeHead(500).end();
    }
  });
}

function simulation(url: string, deadLetters: DeadLetter[]): SimulationOptions {
  return createSimulationOptions({
    url,
    secrets: [secret],
    timeoutMs: 5000,
    retries: 1,
    backoffMs: 1,
    duplicates: 0.4,
    seed: 1234,
    budgetMs: 60_000,
    dispatcher,
    deadLetter: async (entry) => void deadLetters.push(entry),
    wait: async () => {},
  });
}

/** Everything the report says except timings (and the random call ids in the samples). */
function reportOf(result: LoadResult, deadLetters: DeadLetter[]) {
  const { stats } = result;
  return {
    calls: [stats.callsStarted, stats.callsPassed, stats.callsFailed],
    events: [stats.events, stats.eventsFailed, stats.overBudget, stats.retried, stats.duplicated, stats.deadLettered],
    latencyCount: stats.latency().count,
    failuresByKind: Object.fromEntries(stats.failuresByKind),
    perType: stats.perType().map((entry) => [entry.eventType, entry.events, entry.failed, entry.latency.count]),
    samples: stats.samples.map((sample) => [sample.sequence, sample.eventType, sample.message]),
    deadLetters: deadLetters.map((entry) => [entry.event_type, entry.attempts, entry.last_error]).sort(),
    unreachable: result.unreachable,
  };
}

describe("load mode: undici and the fast client", () => {
  it("give identical reports for the same seeded run with retries, timeouts, duplicates and dead letters", async () => {
    const server = await flakyHandler();
    try {
      const load = { calls: 12, concurrency: 4, rate: undefined };
      const viaUndici: DeadLetter[] = [];
      const undici = reportOf(await runLoad([flow], simulation(server.url, viaUndici), load), viaUndici);
      const viaFast: DeadLetter[] = [];
      const fast = reportOf(await runFastLoad([flow], simulation(server.url, viaFast), { ...load, pipelining: undefined }), viaFast);
      assert.deepEqual(fast, undici);
      // And the run exercised what it claims to.
      assert.deepEqual(fast.failuresByKind, { schema: 12, status: 12, delivery: 12 });
      assert.deepEqual(fast.events, [48, 24, 0, 36, 14, 12]);
    } finally {
      await server.close();
    }
  });
});

/** The distinct calls the handler saw (each call's events share its call id). */
const callsSeen = (server: TestServer) =>
  new Set(server.requests.map((request) => (JSON.parse(request.body.toString("utf8")) as { call_id: string }).call_id)).size;

describe("load mode: --warmup", () => {
  it("runs its calls first, as the measured ones run, and counts them in no figure and no dead letter", async () => {
    const server = await flakyHandler();
    try {
      const load = { calls: 4, concurrency: 2, rate: undefined, pipelining: undefined };
      const without: DeadLetter[] = [];
      const cold = await runFastLoad([flow], simulation(server.url, without), load);
      assert.equal(callsSeen(server), 4);
      server.requests.length = 0;
      const withWarmup: DeadLetter[] = [];
      const warm = await runFastLoad([flow], simulation(server.url, withWarmup), { ...load, warmup: 3 });
      assert.equal(callsSeen(server), 7, "the warm-up's calls reached the handler");
      // The same seeded plans, retries, duplicates and dead letters as the run without a warm-up.
      assert.deepEqual(reportOf(warm, withWarmup), reportOf(cold, without));
      assert.equal(cold.warmup, undefined);
      assert.deepEqual([warm.warmup?.calls, warm.warmup?.failed], [3, 3], "every flaky call fails its schema check");
    } finally {
      await server.close();
    }
  });

  it("does not bail during the warm-up; the measured calls do", async () => {
    const server = await flakyHandler();
    try {
      const options = simulation(server.url, []);
      const result = await runFastLoad(
        [flow],
        { ...options, faults: { ...options.faults, bail: true } },
        {
          calls: 5,
          concurrency: 1,
          rate: undefined,
          pipelining: undefined,
          warmup: 2,
        },
      );
      assert.deepEqual([result.warmup?.calls, result.bailed, result.stats.callsStarted], [2, true, 1]);
    } finally {
      await server.close();
    }
  });

  it("an unreachable handler or Ctrl-C during the warm-up ends the run with no measured call", async () => {
    const closed = await startServer((_request, response) => void response.end());
    const url = closed.url;
    await closed.close();
    const unreachable = await runFastLoad([flow], simulation(url, []), { calls: 5, concurrency: 2, rate: undefined, pipelining: undefined, warmup: 3 });
    assert.match(unreachable.unreachable ?? "", /ECONNREFUSED|connect/);
    assert.deepEqual([unreachable.stats.callsStarted, unreachable.stats.events, unreachable.durationMs], [0, 0, 0]);

    const stop = new AbortController();
    const server = await startServer((_request, response) => {
      stop.abort();
      json(response, 200, { instructions: [{ type: "listen" }] });
    });
    try {
      const interrupted = await runFastLoad([flow], simulation(server.url, []), {
        calls: 5,
        concurrency: 2,
        rate: undefined,
        pipelining: undefined,
        warmup: 3,
        stop: stop.signal,
      });
      assert.deepEqual([interrupted.interrupted, interrupted.stats.callsStarted], [true, 0]);
    } finally {
      await server.close();
    }
  });

  it("on worker threads too: Ctrl-C while a thread waits for the others, or an unreachable handler, ends it with no measured call and no clock", {
    timeout: 10_000,
  }, async () => {
    const one = await flowFromValue({ version: 1, name: "one", events: [{ event_type: "call.ended" }] }, "one.json");
    const signing = pickSigningOptions(optionsSchema("simulate").parse({ secret: [secret] }));
    // The warm-up is 2 calls on one thread and 1 on the other, at a rate that starts each thread's second call 30 s
    // after its first: after two calls one thread has warmed up and waits for "go", the other waits for its next
    // start, and Ctrl-C must end both at once (neither the barrier nor the rate's timer may hold a thread).
    const stop = new AbortController();
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    const closed = await startServer((_request, response) => void response.end());
    await closed.close();
    try {
      const run = async (url: string, rate: number | undefined, signal?: AbortSignal) => {
        const options = createSimulationOptions({ url, secrets: [secret], seed: 5, dispatcher });
        let clock = 0;
        return runLoadInWorkers(
          {
            flows: [one],
            signing,
            simulation: options,
            load: { calls: 4, concurrency: 2, rate, pipelining: undefined, warmup: 3 },
            workers: 2,
            env: {},
            deadLetter: undefined,
            onWarmupProgress: (done) => done === 2 && stop.abort(),
            ...(signal && { stop: signal }),
          },
          // Every reading a second later: a clock that ran after the warm-up would show.
          () => (clock += 1000),
        );
      };
      const interrupted = await run(server.url, 1 / 15, stop.signal);
      assert.deepEqual([interrupted.interrupted, interrupted.stats.callsStarted, interrupted.durationMs, interrupted.warmup?.calls], [true, 0, 0, 2]);
      const unreachable = await run(closed.url, undefined);
      assert.match(unreachable.unreachable ?? "", /ECONNREFUSED|connect/);
      assert.deepEqual([unreachable.stats.callsStarted, unreachable.durationMs], [0, 0]);
    } finally {
      await server.close();
    }
  });
});

describe("load mode: worker threads", () => {
  it("splits calls evenly and merges histograms and counts exactly", () => {
    assert.deepEqual(
      [0, 1, 2].map((index) => shareOf(10, 3, index)),
      [4, 3, 3],
    );
    assert.deepEqual(
      [threadCount(4, { calls: 10, concurrency: 3 }), threadCount(4, { calls: 2, concurrency: 8 }), threadCount(2, { calls: 9, concurrency: 9 })],
      [3, 2, 2],
    );
    assert.deepEqual([warmupCalls(0, 3), warmupCalls(1, 3), warmupCalls(7, 3)], [0, 3, 7]);
    const one = new LoadStats();
    const two = new LoadStats();
    const whole = createHistogram();
    for (let ms = 1; ms <= 100; ms++) {
      const result = {
        index: 0,
        sequence: 1,
        eventType: ms % 2 ? "a" : "b",
        eventId: "e",
        status: 200,
        latencyMs: ms,
        attempts: 1,
        passed: true,
        failures: [],
        warnings: [],
        instructionTypes: [],
        deadLettered: false,
        step: undefined,
        duplicate: undefined,
      };
      (ms <= 30 ? one : two).recordEvent("call", result);
      whole.record(ms * 1000);
    }
    // Each thread's event loop, as busy as it was: the merged second is their mean.
    one.finish(() => 1);
    two.finish(() => 0.5);
    const merged = new LoadStats();
    merged.merge(one.toData());
    merged.merge(two.toData());
    assert.deepEqual(merged.busyPerSecond(), [0.75]);
    assert.equal(merged.events, 100);
    assert.equal(merged.latency().p50Ms, Math.round(whole.percentile(50) / 100) / 10);
    assert.equal(merged.latency().p99Ms, Math.round(whole.percentile(99) / 100) / 10);
    assert.deepEqual(
      merged.perType().map((entry) => [entry.eventType, entry.events]),
      [
        ["a", 50],
        ["b", 50],
      ],
    );
  });

  it("merges threads of different lengths second by second: a thread that has ended is no idle loop", () => {
    // Thread one runs 2.5 s with its loop busy throughout, its late starts in its last second; thread two ends within its first.
    const one = new LoadStats(0);
    one.advanceTo(1000, () => 1);
    one.advanceTo(2000, () => 1);
    for (let call = 0; call < 10; call++) one.recordLateStart(false);
    one.finish(() => 1);
    const two = new LoadStats(0);
    two.finish(() => 0.2);
    const merged = new LoadStats();
    merged.merge(one.toData());
    merged.merge(two.toData());
    assert.deepEqual(merged.busyPerSecond(), [0.6, 1, 1]);
    assert.equal(merged.lateStartsBusy(), 1);
  });

  it("weighs late starts by their own thread's loop, not the mean over threads", () => {
    // Both threads in second 0: one busy with all the late starts, the other idle with none.
    const one = new LoadStats(0);
    for (let call = 0; call < 10; call++) one.recordLateStart(false);
    one.finish(() => 1);
    const two = new LoadStats(0);
    two.finish(() => 0);
    const merged = new LoadStats();
    merged.merge(one.toData());
    merged.merge(two.toData());
    assert.deepEqual(merged.busyPerSecond(), [0.5]);
    assert.equal(merged.lateStartsBusy(), 1);
  });

  it("runs the calls on threads and reports the whole run", async () => {
    const server = await flakyHandler();
    try {
      const deadLetters: DeadLetter[] = [];
      const options = simulation(server.url, deadLetters);
      const progress: number[] = [];
      const result = await runLoadInWorkers({
        flows: [flow],
        signing: pickSigningOptions(optionsSchema("simulate").parse({ secret: [secret] })),
        simulation: options,
        load: { calls: 6, concurrency: 4, rate: undefined, pipelining: undefined, warmup: 3 },
        workers: 2,
        env: {},
        deadLetter: options.deadLetter,
        onProgress: (done) => progress.push(done),
      });
      assert.deepEqual([result.stats.callsStarted, result.stats.events], [6, 24]);
      assert.deepEqual(Object.fromEntries(result.stats.failuresByKind).schema, 6);
      assert.equal(deadLetters.length, 6, "dead letters cross back to the main thread (the warm-up's are not written)");
      assert.equal(progress.at(-1), 6);
      // --warmup: each thread warms up on its share (2 + 1), then both start their measured calls.
      assert.deepEqual([result.warmup?.calls, result.warmup?.failed], [3, 3]);
      assert.equal(callsSeen(server), 9);
      assert.equal(server.requests.filter((request) => String(request.headers["webhook-signature"]).startsWith("v1,")).length, server.requests.length);
    } finally {
      await server.close();
    }
  });
});
