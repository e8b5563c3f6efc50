/**
 * The load report (issue 29): script turns' failures counted and sampled, status codes, latency spread,
 * the rate over the run, the header of a single run, the ETA, JUnit, and Ctrl-C's partial report.
 * In process on a fake clock, except the one spawned run that presses Ctrl-C on the CLI.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createSimulationOptions, type CallFlow, type SimulateOptions } from "../../src/api.js";
import { flowFromValue } from "../../src/files/call-flow.js";
import { runFastLoad, runLoad, type LoadResult } from "../../src/engine/load/run.js";
import { runLoadInWorkers } from "../../src/engine/load/workers.js";
import { LoadStats } from "../../src/engine/load/stats.js";
import type { TurnResult } from "../../src/engine/results.js";
import { optionsSchema } from "../../src/cli/settings.js";
import { pickSigningOptions } from "../../src/signing/options.js";
import { createColors } from "../../src/ui/color.js";
import { toLoadJUnitXml } from "../../src/ui/load-junit.js";
import { EtaEstimator, formatEta } from "../../src/ui/load-progress.js";
import { formatLoadSummary, ratePerSecond, sparkline, toJsonLoadReport, type LoadDescription } from "../../src/ui/load-report.js";
import {
  fakeClock,
  json,
  loadExampleHandler,
  newSecret,
  spawnVwh,
  startListener,
  startServer,
  withFlowFile,
  withTempDir,
  type FakeClock,
  type TestServer,
} from "../helpers.js";

const secret = newSecret();
let reference: TestServer;
before(async () => {
  const example = await loadExampleHandler();
  reference = await startListener(example.createVoiceHandler({ secrets: [secret] }));
});
after(() => reference.close());

interface Run {
  result: LoadResult;
  text: string;
  report: ReturnType<typeof toJsonLoadReport>;
  junit: string;
}

/** runLoad (undici) or runFastLoad in process; the reports as the CLI prints them, with exit code `exitCode`. */
async function load(
  url: string,
  flows: unknown[],
  calls: number,
  options: Partial<SimulateOptions> & { clock?: FakeClock; concurrency?: number; rate?: number; fast?: boolean; stop?: AbortSignal } = {},
): Promise<Run> {
  const { clock = fakeClock(), concurrency = 2, rate, fast = false, stop, ...rest } = options;
  const simulation = createSimulationOptions({ url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait, ...rest });
  const loaded = await Promise.all(flows.map((flow, index) => flowFromValue(flow, `flow${index}.json`)));
  const shape = { calls, concurrency, rate, ...(stop && { stop }) };
  const result = await (fast ? runFastLoad(loaded, simulation, { ...shape, pipelining: undefined }) : runLoad(loaded, simulation, shape)).finally(() =>
    simulation.dispatcher.close(),
  );
  const run: LoadDescription = {
    target: url,
    scheme: "standard",
    budgetMs: simulation.budgetMs,
    timeoutMs: simulation.policy.timeoutMs,
    retries: simulation.policy.retries,
    profile: "twilio",
    seed: 1,
    calls,
    concurrency,
    rate,
  };
  return {
    result,
    text: formatLoadSummary(result, run, createColors(false)),
    report: toJsonLoadReport(result, run, result.interrupted ? 130 : 1),
    junit: toLoadJUnitXml(result, run),
  };
}

const flow = (events: CallFlow["events"]): CallFlow => ({ version: 1, name: "load flow", events });
/** The reference handler's keypad menu, with a step 2 expectation it does not meet. */
const failingScript = {
  version: 1,
  name: "menu",
  call: { from: "+15550100001", to: "+15550100300" },
  script: [{ expect: { actions: ["speak", "listen"] } }, { press: "2", expect: { says: { contains: "opening hours" } } }, { press: "0" }],
};

describe("load report: caller scripts", () => {
  it("counts failing turns by kind and samples them with call, step and expectation (not `0 failed` and nothing else)", async () => {
    const { result, text, report, junit } = await load(reference.url, [failingScript], 6);
    const { stats } = result;
    assert.deepEqual([stats.callsFailed, stats.eventsFailed, stats.turns.total, stats.turns.failed], [6, 0, 18, 6]);
    assert.match(text, /^turns {5}18 · 6 failed$/m);
    assert.match(text, /^failures {2}turns: expect 6$/m);
    assert.match(text, /first failures:\n {2}call_\S+ step 2 \(press 2\): says: .*opening hours/);
    assert.deepEqual(report.failures_by_kind, { expect: 6 });
    assert.deepEqual(report.turns, { total: 18, failed: 6, failures_by_kind: { expect: 6 } });
    assert.equal(report.failure_samples.length, 5);
    const [sample] = report.failure_samples;
    assert.deepEqual([sample!.source, sample!.step, sample!.step_label, sample!.kind, sample!.expectation], ["turn", 2, "press 2", "expect", "says"]);
    assert.match(sample!.call_id, /^call_/);
    assert.match(
      junit,
      /<testcase [^>]*name="turns" time="0.000">\s*<failure message="6 of 18 failed" type="expect">6 of 18 failed\nby kind: expect 6\ncall_\S+ step 2 \(press 2\): says:/,
    );
    assert.match(junit, /name="events: call.started" time="0.000"\/>/);
  });
});

describe("load report: status codes, latency spread, rate over the run, header", () => {
  it("counts events by status and by error code, and gives min / mean / stdev with the percentiles", async () => {
    const clock = fakeClock();
    let calls = 0;
    const server = await startServer((request, response) => {
      const event = JSON.parse(request.body.toString("utf8")) as { event_type: string };
      if (event.event_type === "call.started") {
        // 10 and 30 ms in turn: mean 20, stdev 10.
        clock.advance(calls++ % 2 ? 30 : 10);
        return json(response, 200, { instructions: [{ type: "listen" }] });
      }
      if (event.event_type === "speech.detected") return void response.writeHead(503).end();
      if (event.event_type === "dtmf.received") return void response.socket?.destroy();
      response.writeHead(204).end();
    });
    try {
      const events = [
        { event_type: "call.started" },
        { event_type: "speech.detected" },
        { event_type: "dtmf.received", payload: { digits: "1" } },
        { event_type: "call.ended" },
      ];
      const { result, text, report } = await load(server.url, [flow(events)], 10, { clock, concurrency: 1, retries: 0, fast: true });
      assert.deepEqual(report.status_codes, { "200": 10, "204": 10, "503": 10 });
      assert.deepEqual(report.status_classes, { "1xx": 0, "2xx": 20, "3xx": 0, "4xx": 0, "5xx": 10, errors: 10 });
      assert.deepEqual(Object.values(report.errors_by_code), [10]);
      const [code] = Object.keys(report.errors_by_code);
      assert.match(text, new RegExp(`^status {4}2xx 20 \\(200 10 · 204 10\\) · 5xx 10 \\(503 10\\) · errors 10 \\(${code} 10\\)$`, "m"));
      const latency = result.stats.perType().find((entry) => entry.eventType === "call.started")!.latency;
      assert.deepEqual([latency.minMs, latency.meanMs, latency.stdevMs, latency.maxMs], [10, 20, 10, 30]);
      assert.deepEqual(Object.keys(report.latency), ["count", "min_ms", "mean_ms", "stdev_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms"]);
      assert.match(text, /^latency {3}min 0 ms {2}mean 6\.7 ms {2}stdev 11\.1 ms {2}p50 0 ms/m);
      assert.match(
        text,
        /^vwh simulate → \S+ {2}\(standard signatures, budget 200 ms, timeout 10000 ms, twilio profile, seed 1\)\nload: 10 calls, concurrency 1$/m,
      );
    } finally {
      await server.close();
    }
  });

  it("gives events per second over the run: an array in --json, a sparkline in the text", async () => {
    await withServer204(async (url) => {
      // --rate 10: call n starts n × 100 ms in; 25 calls end at 2.4 s (one at a time: each wait exact on the fake clock).
      const { result, text, report } = await load(url, [flow([{ event_type: "call.ended" }])], 25, { rate: 10, concurrency: 1 });
      assert.equal(result.durationMs, 2400);
      assert.deepEqual(result.stats.perSecond, [10, 10, 5]);
      // The last 0.4 s held 5 events: 12.5 a second.
      assert.deepEqual(report.events_per_second_over_time, [10, 10, 13]);
      assert.deepEqual(ratePerSecond(result), report.events_per_second_over_time);
      assert.match(text, /^rate {6}▆▆█ {2}events\/s per second, peak 13, low 10$/m);
    });
    assert.equal(sparkline([0, 4, 8]), "▁▅█");
    assert.equal(
      sparkline(
        Array.from({ length: 120 }, (_, second) => (second < 60 ? 1 : 2)),
        60,
      ),
      "▅".repeat(30) + "█".repeat(30),
    );
  });
});

describe("load report: first audio and first token", () => {
  it("counts an LLM socket's first token apart from a media stream's first audio, in text and JSON, and across workers", () => {
    const turn = (measures: "audio" | "token", firstAudioMs: number): TurnResult => ({
      step: 1,
      label: 'say "hi"',
      actions: [],
      says: "",
      ended: undefined,
      failures: [],
      passed: true,
      media: { protocol: "test", measures, firstAudioMs, agentAudioMs: 0, stoppedOnInterrupt: undefined, marks: { sent: 0, acknowledged: 0 } },
    });
    const stats = new LoadStats(0);
    stats.recordTurn("call_1", turn("audio", 300));
    stats.recordTurn("call_1", turn("token", 40));
    const worker = new LoadStats(0);
    worker.recordTurn("call_2", turn("token", 60));
    stats.merge(worker.toData());
    const result: LoadResult = { stats, unreachable: undefined, bailed: false, interrupted: false, seed: 1, durationMs: 1000, warmup: undefined };
    const run = loadDescription({ calls: 2, concurrency: 1, rate: undefined });
    const text = formatLoadSummary(result, run, createColors(false));
    assert.match(text, /^1st audio p50 300 ms .* max 300 ms {2}\(1 media turns\)$/m);
    assert.match(text, /^1st token p50 40 ms .* max 60 ms {2}\(2 LLM turns\)$/m);
    const report = toJsonLoadReport(result, run, 0);
    assert.equal(report.first_audio?.count, 1);
    assert.equal(report.first_token?.count, 2);
    assert.equal(report.first_token?.max_ms, 60);
  });

  it("--warmup: the header says it, a line after the run gives its calls, failures and time, JSON and JUnit carry it", () => {
    const stats = new LoadStats(0);
    const result: LoadResult = {
      stats,
      unreachable: undefined,
      bailed: false,
      interrupted: false,
      seed: 1,
      durationMs: 2000,
      warmup: { calls: 300, failed: 2, durationMs: 1234 },
    };
    const run = loadDescription({ calls: 10, concurrency: 2, rate: 50, warmup: 300 });
    const text = formatLoadSummary(result, run, createColors(false));
    assert.match(text, /^load: 10 calls, concurrency 2, 50 calls\/s, warm-up 300 calls$/m);
    assert.match(text, /^after a warm-up of 300 calls \(2 failed\) in 1\.23 s, counted in none of the figures above$/m);
    assert.deepEqual(toJsonLoadReport(result, run, 0).warmup, { calls: 300, failed: 2, duration_ms: 1234 });
    assert.match(toLoadJUnitXml(result, run), /<property name="warmup_calls" value="300"\/><property name="warmup_failed" value="2"\/>/);
    const none = toJsonLoadReport({ ...result, warmup: undefined }, { ...run, warmup: 0 }, 0);
    assert.equal(none.warmup, null);
    assert.doesNotMatch(formatLoadSummary({ ...result, warmup: undefined }, { ...run, warmup: 0 }, createColors(false)), /warm-up/);
  });
});

/** A load run's description as the report prints it: a fixed single-run header and the load's own shape. */
function loadDescription(shape: Pick<LoadDescription, "calls" | "concurrency" | "rate" | "warmup">): LoadDescription {
  return { target: "http://127.0.0.1:1/", scheme: "standard", budgetMs: 200, timeoutMs: 1000, retries: 0, profile: undefined, seed: 1, ...shape };
}

async function withServer204(work: (url: string) => Promise<void>): Promise<void> {
  const server = await startServer((_request, response) => void response.writeHead(204).end());
  try {
    await work(server.url);
  } finally {
    await server.close();
  }
}

describe("load progress: the time left", () => {
  it("holds steady on a fake clock while calls finish in bursts, and counts down through a stall", () => {
    // 12 000 calls at 100 a second, finishing 50 at a time every half second: 120 s in all.
    const eta = new EtaEstimator(12_000, 0);
    const shown: [number, number | undefined][] = [];
    for (let at = 100; at <= 60_000; at += 100) {
      const done = Math.floor(at / 500) * 50;
      shown.push([at, eta.update(at, done)]);
    }
    assert.equal(shown[5]![1], undefined, "no estimate before a second of progress");
    for (const [at, seconds] of shown.filter(([at]) => at >= 2000)) {
      const truth = (120_000 - at) / 1000;
      assert.ok(Math.abs(seconds! - truth) <= truth * 0.1 + 1, `at ${at} ms: ${seconds} s left, truly ${truth}`);
    }
    for (let i = 20; i < shown.length; i++) assert.ok(Math.abs(shown[i]![1]! - shown[i - 1]![1]!) < 2, `a jump at ${shown[i]![0]} ms`);
    // Nothing finishes for 3 s: the estimate grows with the stall, gradually, and never reads 0 while calls are left.
    const before = eta.update(60_000, 6000)!;
    const stalled = [61_000, 62_000, 63_000].map((at) => eta.update(at, 6000)!);
    assert.ok(
      stalled.every((seconds, i) => seconds > 0 && Math.abs(seconds - (i ? stalled[i - 1]! : before)) < 0.25 * before),
      `${before} → ${stalled.join(", ")}`,
    );
    assert.equal(eta.update(64_000, 12_000), 0);
    assert.deepEqual([formatEta(undefined), formatEta(42.4), formatEta(185), formatEta(3725)], ["…", "42s", "3m 05s", "1h 02m"]);
  });
});

describe("load mode: Ctrl-C", () => {
  it("ends the run at once with what finished: a partial report marked interrupted, exit code 130", async () => {
    const stop = new AbortController();
    let answered = 0;
    const server = await startServer((_request, response) => {
      // After 40 events the user presses Ctrl-C; the requests in flight then are never answered.
      if (++answered === 40) stop.abort();
      if (answered >= 40) return;
      response.writeHead(204).end();
    });
    try {
      const { result, text, report, junit } = await load(server.url, [flow([{ event_type: "speech.detected" }, { event_type: "call.ended" }])], 1_000_000, {
        concurrency: 4,
        fast: true,
        stop: stop.signal,
      });
      assert.equal(result.interrupted, true);
      // Replies sent before the 40th request may still be unread when Ctrl-C comes: those are dropped too.
      assert.ok(result.stats.events >= 36 && result.stats.events <= 39, String(result.stats.events));
      assert.ok(result.stats.callsStarted < 30);
      assert.deepEqual([report.interrupted, report.exit_code, report.events.total], [true, 130, result.stats.events]);
      assert.match(text, /interrupted \(Ctrl-C\): partial results/);
      const unfinished = result.stats.callsStarted - result.stats.callsPassed - result.stats.callsFailed;
      assert.ok(unfinished > 0);
      assert.equal(report.calls.unfinished, unfinished);
      assert.match(text, new RegExp(`^calls .* · ${unfinished} in flight at Ctrl-C \\(not counted\\)$`, "m"));
      assert.match(junit, /<!-- interrupted \(Ctrl-C\): partial results -->[\s\S]*<property name="interrupted" value="true"\/>/);
    } finally {
      await server.close();
    }
  });

  it("reaches worker threads: each ends its share and the merged report is marked interrupted", async () => {
    const stop = new AbortController();
    let answered = 0;
    const server = await startServer((_request, response) => {
      if (++answered === 30) stop.abort();
      response.writeHead(204).end();
    });
    try {
      const loaded = await flowFromValue(flow([{ event_type: "call.ended" }]), "flow.json");
      const simulation = createSimulationOptions({ url: server.url, secrets: [secret], seed: 1 });
      const result = await runLoadInWorkers({
        flows: [loaded],
        signing: pickSigningOptions(optionsSchema("simulate").parse({ secret: [secret] })),
        simulation,
        load: { calls: 1_000_000, concurrency: 2, rate: undefined, pipelining: undefined },
        workers: 2,
        env: {},
        deadLetter: undefined,
        stop: stop.signal,
      }).finally(() => simulation.dispatcher.close());
      assert.equal(result.interrupted, true);
      assert.ok(result.stats.events > 0 && result.stats.events <= answered, String(result.stats.events));
      // On the wall clock a timer moves events into seconds: every event counted in one of them.
      assert.equal(
        result.stats.perSecond.reduce((sum, count) => sum + count, 0),
        result.stats.events,
      );
    } finally {
      await server.close();
    }
  });

  it("on SIGINT the CLI prints the partial --json report, writes the partial JUnit and exits 130 (spawned)", async () => {
    await withTempDir(async (dir) => {
      let reached!: () => void;
      const busy = new Promise<void>((resolve) => (reached = resolve));
      let answered = 0;
      const server = await startServer((_request, response) => {
        if (++answered === 200) reached();
        response.writeHead(204).end();
      });
      const junit = join(dir, "load.xml");
      try {
        await withFlowFile(JSON.stringify(flow([{ event_type: "call.ended" }])), async (file) => {
          const running = spawnVwh(["simulate", file, "--url", server.url, "--calls", "100000000", "--concurrency", "4", "--json", "--junit", junit], {
            env: { VWH_SECRET: secret },
          });
          await busy;
          const { code, stdout, stderr } = await running.stop("SIGINT");
          assert.equal(code, 130, stderr);
          const report = JSON.parse(stdout) as {
            mode: string;
            interrupted: boolean;
            exit_code: number;
            events: { total: number };
            calls: { requested: number };
          };
          assert.deepEqual([report.mode, report.interrupted, report.exit_code, report.calls.requested], ["load", true, 130, 100_000_000]);
          assert.ok(report.events.total > 0 && report.events.total <= answered, String(report.events.total));
          assert.match(await readFile(junit, "utf8"), /<property name="interrupted" value="true"\/>/);
        });
      } finally {
        await server.close();
      }
    });
  });
});
