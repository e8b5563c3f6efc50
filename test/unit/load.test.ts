/** Load mode: the aggregation (percentiles on known values), runLoad in process on a fake clock, and the CLI contract. */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { describe, it } from "node:test";
import { createSimulationOptions, type CallFlow, type SimulateOptions } from "../../src/api.js";
import { flowFromValue } from "../../src/files/call-flow.js";
import { LoadStats } from "../../src/engine/load/stats.js";
import { runLoad } from "../../src/engine/load/run.js";
import { type EventResult } from "../../src/engine/results.js";
import { createColors } from "../../src/ui/color.js";
import { formatLoadSummary, toJsonLoadReport } from "../../src/ui/load-report.js";
import type { Transport } from "../../src/transport/undici.js";
import {
  binPath,
  fakeClock,
  fixture,
  flowWith,
  json,
  newSecret,
  runInProcess,
  startServer,
  withFlowFile,
  withServer,
  refusingServer,
  type TestServer,
} from "../helpers.js";

const secret = newSecret();
const env = { VWH_SECRET: secret };

function eventResult(latencyMs: number, overrides: Partial<EventResult> = {}): EventResult {
  return {
    index: 0,
    sequence: 1,
    eventType: "call.ended",
    eventId: "e",
    status: 204,
    latencyMs,
    attempts: 1,
    passed: true,
    failures: [],
    warnings: [],
    instructionTypes: [],
    deadLettered: false,
    step: undefined,
    duplicate: undefined,
    ...overrides,
  };
}

const near = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) <= expected * 0.01 + 0.1, `${actual} ≉ ${expected}`);

describe("LoadStats", () => {
  it("computes percentiles right on a known distribution (1..1000 ms)", () => {
    const stats = new LoadStats();
    for (let ms = 1; ms <= 1000; ms++) stats.recordEvent("call", eventResult(ms));
    const latency = stats.latency();
    assert.equal(latency.count, 1000);
    near(latency.p50Ms, 500);
    near(latency.p90Ms, 900);
    near(latency.p95Ms, 950);
    near(latency.p99Ms, 990);
    near(latency.maxMs, 1000);
  });

  it("splits by event type and counts failures by kind, keeping a few samples", () => {
    const stats = new LoadStats();
    for (let i = 0; i < 10; i++)
      stats.recordEvent(
        `call_${i}`,
        eventResult(5, { eventType: "call.started", passed: false, failures: [{ kind: "schema", path: "instructions[0].text", message: "required" }] }),
      );
    stats.recordEvent("call_x", eventResult(300, { warnings: [{ kind: "budget", message: "latency 300 ms over budget 200 ms" }] }));
    assert.deepEqual(Object.fromEntries(stats.failuresByKind), { schema: 10 });
    assert.equal(stats.samples.length, 5);
    assert.equal(stats.samples[0]!.message, "instructions[0].text: required");
    assert.equal(stats.overBudget, 1);
    assert.deepEqual(
      stats.perType().map((entry) => [entry.eventType, entry.events, entry.failed]),
      [
        ["call.ended", 1, 0],
        ["call.started", 10, 10],
      ],
    );
  });
});

interface LoadReport {
  exit_code: number;
  concurrency: number;
  calls: { started: number; passed: number; failed: number };
  events: { total: number; failed: number; per_second: number };
  peak_rss_bytes: number;
  warmup: { calls: number; failed: number; duration_ms: number } | null;
}

/** runLoad in process on a fake clock; `text` and `json` are the reports as the CLI prints them. */
async function load(
  server: TestServer,
  flows: CallFlow[],
  load: { calls: number; concurrency: number; rate?: number },
  options: Partial<SimulateOptions> = {},
  clock = fakeClock(),
) {
  const simulation = createSimulationOptions({ url: server.url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait, ...options });
  const loaded = await Promise.all(flows.map((flow, index) => flowFromValue(flow, `flow${index}.json`)));
  const result = await runLoad(loaded, simulation, { calls: load.calls, concurrency: load.concurrency, rate: load.rate }).finally(() =>
    simulation.dispatcher.close(),
  );
  const run = {
    target: server.url,
    scheme: "standard",
    budgetMs: simulation.budgetMs,
    timeoutMs: simulation.policy.timeoutMs,
    retries: simulation.policy.retries,
    profile: undefined,
    seed: 1,
    calls: load.calls,
    concurrency: load.concurrency,
    rate: load.rate,
  };
  return { result, clock, text: formatLoadSummary(result, run, createColors(false)), json: toJsonLoadReport(result, run, 0) };
}

const flow = (events: CallFlow["events"], extra: Partial<CallFlow> = {}): CallFlow => ({
  version: 1,
  name: "load flow",
  call: { call_id: "call_test" },
  events,
  ...extra,
});
const waiting = ["call.started", "speech.transcribed", "dtmf.received", "playback.finished"];

describe("LoadStats: the sender's busy time", () => {
  it("gives a stall's busy fraction to every second it spans, not to its first alone", () => {
    // The loop blocked from 0.4 s to 4.3 s: the timer that moves the seconds runs once, at 4.3 s, over all of them.
    const stats = new LoadStats(0);
    stats.advanceTo(4300, () => 0.9);
    for (let call = 0; call < 4; call++) stats.recordLateStart(false);
    stats.finish(() => 1);
    assert.deepEqual(stats.busyPerSecond(), [0.9, 0.9, 0.9, 0.9, 1]);
    assert.equal(stats.lateStartsBusy(), 1);
  });

  it("names the cause by the band the late starts' busy fraction falls in: under 0.5, 0.5 up to 0.9, from 0.9", () => {
    const run = { target: "http://127.0.0.1:9/", scheme: "standard", budgetMs: 200, timeoutMs: 1000, retries: 0, profile: undefined, seed: 1 };
    const line = (fraction: number) => {
      const stats = new LoadStats(0);
      stats.recordLateStart(false);
      stats.finish(() => fraction);
      const result = { stats, unreachable: undefined, bailed: false, interrupted: false, seed: 1, durationMs: 500, warmup: undefined };
      const load = { calls: 1, concurrency: 1, rate: 10 };
      return formatLoadSummary(result, { ...run, ...load }, createColors(false))
        .split("\n")[3]!
        .replace(/^.* · 1 started late /, "");
    };
    assert.deepEqual([0.49, 0.5, 0.89, 0.9].map(line), [
      "(every call slot busy, vwh's event loop 49 % busy then: the handler holds calls longer than --concurrency allows at --rate)",
      "(vwh's event loop 50 % busy then: short of CPU, and every call slot busy the rest of the time)",
      "(vwh's event loop 89 % busy then: short of CPU, and every call slot busy the rest of the time)",
      "(vwh short of CPU: vwh's event loop 90 % busy then; a fresh process's first second is, see --warmup)",
    ]);
  });

  it("splits late starts with a call slot free (vwh's timers late) from those with none (the loop's busy time judges)", () => {
    const stats = new LoadStats(0);
    for (let call = 0; call < 3; call++) stats.recordLateStart(false);
    for (let call = 0; call < 2; call++) stats.recordLateStart(true);
    stats.finish(() => 0.2);
    const result = { stats, unreachable: undefined, bailed: false, interrupted: false, seed: 1, durationMs: 500, warmup: undefined };
    const run = {
      target: "http://127.0.0.1:9/",
      scheme: "standard",
      budgetMs: 200,
      timeoutMs: 1000,
      retries: 0,
      profile: undefined,
      seed: 1,
      calls: 5,
      concurrency: 2,
      rate: 10,
    };
    assert.equal(stats.lateStartsBusy(), 0.2, "the loop's busy time weighs the three with no slot free only");
    assert.match(
      formatLoadSummary(result, run, createColors(false)),
      /· 5 started late \(3 with no slot free at their time: every call slot busy, vwh's event loop 20 % busy then: .*; 2 with a call slot free: vwh's own timers fired late, its loop busy or its process short of CPU\)$/m,
    );
    assert.deepEqual([toJsonLoadReport(result, run, 0).calls.late_starts_slot_free, toJsonLoadReport(result, run, 0).calls.late_starts_sender_busy], [2, 0.2]);
  });
});

describe("vwh simulate --calls (load mode)", () => {
  it("the CLI runs a load and reports it as JSON", async () => {
    await withServer(
      (_request, response) => void response.writeHead(204).end(),
      async (server) => {
        await withFlowFile(flowWith([{ event_type: "speech.detected" }, { event_type: "call.ended" }]), async (file) => {
          // In process: load mode's exit 0 is spawned by the progress bar's test below (on a real terminal, where
          // --json shows no bar either), its 130 by load-report.test.ts's Ctrl-C.
          const result = await runInProcess(["simulate", file, "--url", server.url, "--calls", "20", "--concurrency", "4", "--warmup", "3", "--json"], {
            env: { VWH_SECRET: secret },
          });
          assert.equal(result.code, 0, result.stdout + result.stderr);
          const report = JSON.parse(result.stdout) as LoadReport;
          assert.deepEqual([report.exit_code, report.concurrency, report.calls.started, report.calls.passed, report.events.total], [0, 4, 20, 20, 40]);
          assert.ok(report.peak_rss_bytes > 0);
          assert.equal(result.stderr, "", "no progress bar without a TTY");
          // --warmup's 3 calls reached the handler first, and are in no figure but their own.
          assert.deepEqual([report.warmup?.calls, report.warmup?.failed], [3, 0]);
          assert.equal(server.requests.length, 46);
        });
      },
    );
  });

  it("runs every call's events in order, with fresh call and event ids", async () => {
    const byCall = new Map<string, number[]>();
    const ids = new Set<string>();
    await withServer(
      (request, response) => {
        const event = JSON.parse(request.body.toString("utf8")) as { call_id: string; event_id: string; sequence: number; event_type: string };
        byCall.set(event.call_id, [...(byCall.get(event.call_id) ?? []), event.sequence]);
        ids.add(event.event_id);
        if (waiting.includes(event.event_type)) return json(response, 200, { instructions: [{ type: "listen" }] });
        response.writeHead(204).end();
      },
      async (server) => {
        // A flow that names its own event ids: load mode must still give each call its own.
        const first = flow([
          { event_type: "call.started", event_id: "fixed_1" },
          { event_type: "speech.detected" },
          { event_type: "call.ended", event_id: "fixed_2" },
        ]);
        const second = flow([
          { event_type: "call.started" },
          { event_type: "dtmf.received", payload: { digits: "1" } },
          { event_type: "speech.ended" },
          { event_type: "call.ended" },
        ]);
        const { result, json: report } = await load(server, [first, second], { calls: 40, concurrency: 8 });
        assert.deepEqual([result.stats.callsStarted, result.stats.callsPassed, result.stats.events], [40, 40, 140]);
        assert.equal(report.exit_code, 0);
        assert.equal(byCall.size, 40);
        for (const sequences of byCall.values()) assert.ok(sequences.join() === "1,2,3" || sequences.join() === "1,2,3,4", `out of order: ${sequences.join()}`);
        assert.equal(ids.size, 140, "every event id unique");
      },
    );
  });

  it("reports exact percentiles, per-type latency and events over budget (handler time on the fake clock)", async () => {
    const clock = fakeClock();
    await withServer(
      (request, response) => {
        // speech.ended takes the handler 400 ms; everything else, no time at all.
        if ((JSON.parse(request.body.toString("utf8")) as { event_type: string }).event_type === "speech.ended") clock.advance(400);
        response.writeHead(204).end();
      },
      async (server) => {
        const tenEvents = flow([...Array.from({ length: 9 }, () => ({ event_type: "speech.detected" })), { event_type: "speech.ended" }]);
        // One call at a time: with calls in flight together, one handler's time would show in the others' latency.
        const { result, text, json: report } = await load(server, [tenEvents], { calls: 10, concurrency: 1 }, { budgetMs: 100 }, clock);
        const slow = result.stats.perType().find((entry) => entry.eventType === "speech.ended")!;
        assert.equal(slow.events, 10);
        // The histogram keeps 3 significant digits: 400 ms reads back within 0.1 %.
        near(slow.latency.p50Ms, 400);
        const latency = result.stats.latency();
        assert.deepEqual([latency.p50Ms, latency.p90Ms], [0, 0]);
        near(latency.p99Ms, 400);
        near(latency.maxMs, 400);
        assert.equal(result.stats.overBudget, 10);
        assert.equal(result.durationMs, 4000);
        assert.equal(report.events.per_second, 25);
        assert.match(text, /calls {5}10 started · 10 passed · 0 failed/);
        assert.match(text, /events {4}100 · 25 events\/s · 0 failed · 10 over budget/);
        assert.match(
          text,
          /latency {3}min 0 ms {2}mean 40 ms {2}stdev 120 ms {2}p50 0 ms {2}p90 0 ms {2}p95 400(\.\d+)? ms {2}p99 400(\.\d+)? ms {2}max 400(\.\d+)? ms/,
        );
        assert.match(text, /speech\.ended +10 +0 {2}p50 400(\.\d+)? ms/);
      },
    );
  });

  it("--pipelining and --workers send every call, signed, and say so in the report", async () => {
    await withServer(
      (_request, response) => void response.writeHead(204).end(),
      async (server) => {
        await withFlowFile(flowWith([{ event_type: "speech.detected" }, { event_type: "call.ended" }]), async (file) => {
          // In process (the load-mode contract is spawned above): the worker threads are real either way.
          const result = await runInProcess(
            ["simulate", file, "--url", server.url, "--calls", "20", "--concurrency", "4", "--pipelining", "2", "--workers", "2", "--warmup", "1", "--json"],
            { env },
          );
          assert.equal(result.code, 0, result.stdout + result.stderr);
          const report = JSON.parse(result.stdout) as LoadReport & { pipelining: number; workers: number };
          assert.deepEqual([report.calls.passed, report.events.total, report.pipelining, report.workers], [20, 40, 2, 2]);
          // --warmup 1 on two threads: a call each (a thread with none would never say it had warmed up).
          assert.equal(report.warmup?.calls, 2);
          assert.equal(server.requests.length, 44);
          assert.ok(server.requests.every((request) => String(request.headers["webhook-signature"]).startsWith("v1,")));
        });
      },
    );
  });

  it("--rate spaces call starts on the clock (open loop)", async () => {
    await withServer(
      (_request, response) => void response.writeHead(204).end(),
      async (server) => {
        const { result, clock } = await load(server, [flow([{ event_type: "call.ended" }])], { calls: 6, concurrency: 10, rate: 10 });
        // Call n is due n × 100 ms after the start: each waits exactly that.
        assert.deepEqual(
          [...clock.waits].sort((a, b) => a - b),
          [100, 200, 300, 400, 500],
        );
        assert.equal(result.durationMs, 500);
        assert.equal(result.stats.lateStarts, 0);
        assert.equal(server.requests.length, 6);
      },
    );
  });

  it("counts calls that start over 50 ms behind --rate, and tells from vwh's busy event loop what held them back", async () => {
    const loaded = [await flowFromValue(flow([{ event_type: "call.ended" }]), "late.json")];
    const reply = { ok: true as const, status: 204, headers: {}, body: Buffer.alloc(0), latencyMs: 1000 };
    const load = { calls: 40, concurrency: 10, rate: 100 };
    const run = { target: "http://127.0.0.1:9/", scheme: "standard", budgetMs: 200, timeoutMs: 1000, retries: 0, profile: undefined, seed: 1, ...load };
    const lateLoad = async (senderBusy: (() => number) | undefined) => {
      const clock = fakeClock();
      const simulation = createSimulationOptions({ url: "http://127.0.0.1:9/", secrets: [secret], seed: 1, now: clock.now, wait: clock.wait });
      // Each call holds its slot a second (on the clock) where calls fall due every 10 ms: ten slots fill at once.
      const transport: Transport = async () => (await clock.wait(1000), reply);
      const result = await runLoad(loaded, { ...simulation, transport }, { ...load, ...(senderBusy && { senderBusy }) }).finally(() =>
        simulation.dispatcher.close(),
      );
      return { result, line: formatLoadSummary(result, run, createColors(false)).split("\n")[3], json: toJsonLoadReport(result, run, 0) };
    };
    // Unmeasured (a fake clock, nothing injected): both causes named, neither claimed.
    const unmeasured = await lateLoad(undefined);
    assert.deepEqual([unmeasured.result.stats.callsPassed, unmeasured.result.stats.lateStarts], [40, 30]);
    assert.match(unmeasured.line!, /· 30 started late \(behind --rate: every call slot busy, or vwh short of CPU\)$/);
    assert.deepEqual(
      [unmeasured.json.calls.late_starts, unmeasured.json.calls.late_starts_sender_busy, unmeasured.json.sender_busy_per_second],
      [30, null, null],
    );
    // vwh mostly idle while behind: the handler held every slot.
    const idle = await lateLoad(() => 0.1);
    assert.match(
      idle.line!,
      /· 30 started late \(every call slot busy, vwh's event loop 10 % busy then: the handler holds calls longer than --concurrency allows at --rate\)$/,
    );
    assert.equal(idle.json.calls.late_starts_sender_busy, 0.1);
    assert.ok(idle.json.sender_busy_per_second?.length && idle.json.sender_busy_per_second.every((fraction) => fraction === 0.1));
    // vwh busy all the time: it was short of CPU.
    const busy = await lateLoad(() => 0.95);
    assert.match(busy.line!, /· 30 started late \(vwh short of CPU: vwh's event loop 95 % busy then; a fresh process's first second is, see --warmup\)$/);
    assert.equal(busy.json.calls.late_starts_sender_busy, 0.95);
  });

  it("counts a call whose --rate timer fires over 50 ms late as started late: a slot was free, vwh's loop was not", async () => {
    const clock = fakeClock();
    // Every wait ends 100 ms past its deadline, as a timer does on a loop that is busy elsewhere (or not run at all).
    const wait = async (ms: number) => (await clock.wait(ms), clock.advance(100));
    const simulation = createSimulationOptions({ url: "http://127.0.0.1:9/", secrets: [secret], seed: 1, now: clock.now, wait });
    const loaded = [await flowFromValue(flow([{ event_type: "call.ended" }]), "stalled.json")];
    const transport: Transport = async () => ({ ok: true as const, status: 204, headers: {}, body: Buffer.alloc(0), latencyMs: 1 });
    // Ten slots for five calls due every 100 ms: each of calls 1 to 4 waits in its own slot and starts 100 ms behind.
    const load = { calls: 5, concurrency: 10, rate: 10, senderBusy: () => 1 };
    const result = await runLoad(loaded, { ...simulation, transport }, load).finally(() => simulation.dispatcher.close());
    assert.deepEqual([result.stats.callsPassed, result.stats.lateStarts, result.stats.lateStartsBusy()], [5, 4, undefined]);
    // Each of them had its slot: vwh's own lateness for certain, whatever its loop measured (an idle-looking loop
    // is what a process starved of CPU by others shows).
    assert.equal(result.stats.lateStartsSlotFree, 4);
    const run = { target: "http://127.0.0.1:9/", scheme: "standard", budgetMs: 200, timeoutMs: 1000, retries: 0, profile: undefined, seed: 1, ...load };
    assert.match(
      formatLoadSummary(result, run, createColors(false)),
      /· 4 started late \(with a call slot free: vwh's own timers fired late, its loop busy or its process short of CPU\)$/m,
    );
    assert.equal(toJsonLoadReport(result, run, 0).calls.late_starts_slot_free, 4);
  });

  it("--concurrency caps the calls in flight", async () => {
    let inFlight = 0;
    let peak = 0;
    const held: (() => void)[] = [];
    await withServer(
      (_request, response) => {
        peak = Math.max(peak, ++inFlight);
        // Answer only once every worker has a request in flight, so the cap is reached and never passed.
        held.push(() => {
          inFlight--;
          response.writeHead(204).end();
        });
        if (held.length === 3) held.splice(0).forEach((release) => release());
      },
      async (server) => {
        const { result } = await load(server, [flow([{ event_type: "call.ended" }])], { calls: 12, concurrency: 3 });
        assert.equal(result.stats.callsPassed, 12);
        assert.equal(peak, 3);
      },
    );
  });

  it("works with the fault settings, counts bad replies by kind, and stops when unreachable", async () => {
    await withServer(
      (_request, response) => json(response, 200, { instructions: [{ type: "speak" }] }),
      async (server) => {
        const {
          result,
          text,
          json: report,
        } = await load(server, [flow([{ event_type: "call.started" }, { event_type: "call.ended" }])], { calls: 5, concurrency: 2 }, { duplicates: 1 });
        assert.equal(result.stats.callsFailed, 5);
        assert.equal(report.exit_code, 0, "the exit code is the command's to decide");
        assert.match(text, /failures {2}events: schema \d+/);
        assert.match(text, /first failures:\n {2}call_\S+ #1 call\.started: instructions\[0\]\.text: required/);
        assert.match(text, /faults {4}\d+ duplicated/);
      },
    );
    const closed = await refusingServer();
    const { result } = await load(closed, [flow([{ event_type: "call.ended" }])], { calls: 50, concurrency: 10 });
    assert.match(result.unreachable ?? "", /connection refused/);
    assert.ok(result.stats.callsStarted < 50, "the run stops instead of hammering a dead address");
  });

  it("refuses combinations that do not make sense (exit 2)", async () => {
    for (const [args, message] of [
      [["--calls", "0"], /--calls: expected value >= 1, got 0/],
      [["--calls", "5", "--concurrency", "0"], /--concurrency: expected value >= 1, got 0/],
      [["--calls", "5", "--rate", "0"], /--rate: expected value > 0/],
      [["--calls", "5", "--pipelining", "0"], /--pipelining: expected value >= 1, got 0/],
      [["--pipelining", "2"], /--pipelining applies to load mode: give --calls too/],
      [["--workers", "2"], /--workers applies to load mode: give --calls too/],
      [["--warmup", "3"], /--warmup applies to load mode: give --calls too/],
      [["--calls", "5", "--warmup", "-1"], /--warmup: expected a whole number of calls, got "-1"/],
    ] as const) {
      const result = await runInProcess(["simulate", fixture("dtmf-menu.json"), "--url", "http://127.0.0.1:9/", ...args], { env: { VWH_SECRET: secret } });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    // A platform that serves the run from this thread (Telnyx's Call Control API, its run key) cannot be split.
    const telnyx = await runInProcess(["simulate", fixture("scripts/telnyx-menu.json"), "--url", "http://127.0.0.1:9/", "--calls", "5", "--workers", "2"], {
      env: {},
    });
    assert.equal(telnyx.code, 2, telnyx.stderr);
    // The only line: refused before the platform opens its run (whose notices would print first).
    assert.match(telnyx.stderr, /^vwh: --workers does not go with telnyx flows \(.*telnyx-menu\.json\): the platform serves the run from the main thread\n$/);
    // A load-mode flag without --calls is refused before the platform opens its run (no Call Control API, no notices).
    const warmup = await runInProcess(["simulate", fixture("scripts/telnyx-menu.json"), "--url", "http://127.0.0.1:9/", "--warmup", "3"], { env: {} });
    assert.deepEqual([warmup.code, warmup.stderr], [2, "vwh: --warmup applies to load mode: give --calls too\n"]);
  });
});

describe("progress bar", () => {
  const hasScript = existsSync("/usr/bin/script");
  it("shows on a terminal for runs longer than a second (a warm-up's too), and never under --json", {
    skip: hasScript ? false : "util-linux script(1) is not installed: no pseudo-terminal to test with",
  }, async () => {
    // Slow enough that 100 calls one at a time last over the bar's one-second threshold.
    const server = await startServer((_request, response) => void setTimeout(() => response.writeHead(204).end(), 15));
    try {
      await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
        const command = (extra: string) => `${process.execPath} ${binPath} simulate ${file} --url ${server.url} --calls 100 --concurrency 1 ${extra}`;
        // Asynchronous: the handler runs in this process and must keep answering.
        const inTerminal = (extra: string) =>
          new Promise<{ status: number | null; stdout: string }>((resolve) => {
            const child = spawn("/usr/bin/script", ["-qec", command(extra), "/dev/null"], {
              env: { ...process.env, ...env, NO_COLOR: "1" },
              stdio: ["ignore", "pipe", "inherit"],
            });
            let stdout = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
            child.on("close", (status) => resolve({ status, stdout }));
          });
        // --warmup: the warm-up's 80 calls (over a second too) have a bar of their own, then the calls theirs.
        const [shown, asJson] = await Promise.all([inTerminal("--warmup 80"), inTerminal("--json")]);
        assert.equal(shown.status, 0, shown.stdout);
        assert.match(shown.stdout, /\d+\/80 warm-up calls[\s\S]*\d+\/100 calls/);
        assert.doesNotMatch(asJson.stdout, /\/100 calls/);
      });
    } finally {
      await server.close();
    }
  });
});
