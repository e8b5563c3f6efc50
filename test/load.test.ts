/** Load mode: the aggregation (percentiles on known values) and end-to-end runs against local handlers. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { LoadStats } from "../src/load-stats.js";
import type { EventResult } from "../src/simulate.js";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { binPath, fixture, flowWith, json, newSecret, runVwh, startServer, withTempDir } from "./helpers.js";

const env = { VWH_SECRET: newSecret() };

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
    for (let i = 0; i < 10; i++) stats.recordEvent(`call_${i}`, eventResult(5, { eventType: "call.started", passed: false, failures: [{ kind: "schema", path: "instructions[0].text", message: "required" }] }));
    stats.recordEvent("call_x", eventResult(300, { warnings: [{ kind: "latency", message: "latency 300 ms over budget 200 ms" }] }));
    assert.deepEqual(Object.fromEntries(stats.failuresByKind), { schema: 10 });
    assert.equal(stats.samples.length, 5);
    assert.equal(stats.samples[0]!.message, "instructions[0].text: required");
    assert.equal(stats.overBudget, 1);
    assert.deepEqual(stats.perType().map((entry) => [entry.eventType, entry.events, entry.failed]), [["call.ended", 1, 0], ["call.started", 10, 10]]);
  });
});

interface LoadReport {
  exit_code: number;
  calls: { started: number; passed: number; failed: number };
  events: { total: number; failed: number; per_second: number; duplicated: number };
  latency: { p50_ms: number; p90_ms: number; p95_ms: number; p99_ms: number; max_ms: number };
  per_event_type: { event_type: string; events: number; latency: { p50_ms: number } }[];
  duration_ms: number;
  peak_rss_bytes: number;
}

describe("vwh simulate --calls (load mode)", () => {
  it("runs every call's events in order, with fresh call and event ids", async () => {
    const byCall = new Map<string, number[]>();
    const ids = new Set<string>();
    const server = await startServer((request, response) => {
      const event = JSON.parse(request.body.toString("utf8")) as { call_id: string; event_id: string; sequence: number; event_type: string };
      byCall.set(event.call_id, [...(byCall.get(event.call_id) ?? []), event.sequence]);
      ids.add(event.event_id);
      if (["call.started", "speech.transcribed", "dtmf.received", "playback.finished"].includes(event.event_type)) return json(response, 200, { instructions: [{ type: "listen" }] });
      response.writeHead(204).end();
    });
    try {
      await withTempDir(async (dir) => {
        // A flow that names its own event ids: load mode must still give each call its own.
        const file = join(dir, "flow.json");
        await writeFile(file, flowWith([{ event_type: "call.started", event_id: "fixed_1" }, { event_type: "speech.detected" }, { event_type: "call.ended", event_id: "fixed_2" }]));
        const second = join(dir, "second.json");
        await writeFile(second, flowWith([{ event_type: "call.started" }, { event_type: "dtmf.received", payload: { digits: "1" } }, { event_type: "speech.ended" }, { event_type: "call.ended" }]));
        const result = await runVwh(["simulate", file, second, "--url", server.url, "--calls", "40", "--concurrency", "8", "--json"], { env });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as LoadReport;
        assert.deepEqual([report.calls.started, report.calls.passed, report.events.total], [40, 40, 140]);
        assert.ok(report.events.per_second > 0);
        assert.equal(byCall.size, 40);
        for (const sequences of byCall.values()) {
          assert.ok(sequences.join() === "1,2,3" || sequences.join() === "1,2,3,4", `out of order: ${sequences.join()}`);
        }
        assert.equal(ids.size, 140, "every event id unique");
        assert.equal(result.stderr, "", "no progress bar without a TTY");
      });
    } finally {
      await server.close();
    }
  });

  it("reports percentiles and per-type latency from a handler that sleeps set times", async () => {
    const server = await startServer(async (request, response) => {
      const event = JSON.parse(request.body.toString("utf8")) as { event_type: string };
      if (event.event_type === "speech.ended") await sleep(400);
      response.writeHead(204).end();
    });
    try {
      const flow = flowWith([...Array.from({ length: 9 }, () => ({ event_type: "speech.detected" })), { event_type: "speech.ended" }]);
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, flow);
        const result = await runVwh(["simulate", file, "--url", server.url, "--calls", "10", "--concurrency", "10", "--json"], { env });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as LoadReport;
        const slow = report.per_event_type.find((entry) => entry.event_type === "speech.ended")!;
        assert.equal(slow.events, 10);
        assert.ok(slow.latency.p50_ms >= 400, `slow p50 ${slow.latency.p50_ms}`);
        // 10% of events sleep 400 ms: they hold the top of the distribution, not its middle.
        assert.ok(report.latency.p99_ms >= 400 && report.latency.max_ms >= 400);
        assert.ok(report.latency.p50_ms < report.latency.p99_ms);
        assert.ok(report.peak_rss_bytes > 0);
        const text = await runVwh(["simulate", file, "--url", server.url, "--calls", "10", "--concurrency", "10", "--budget", "100"], { env });
        assert.match(text.stdout, /calls {5}10 started · 10 passed · 0 failed/);
        assert.match(text.stdout, /events {4}100 · [\d.]+ events\/s · 0 failed · 10 over budget/);
        assert.match(text.stdout, /latency {3}p50 [\d.]+ ms {2}p90 [\d.]+ ms {2}p95 [\d.]+ ms {2}p99 [\d.]+ ms {2}max [\d.]+ ms/);
        assert.match(text.stdout, /speech\.ended +10 +0 {2}p50/);
      });
    } finally {
      await server.close();
    }
  });

  it("--pipelining and --workers send every call, signed, and say so in the report", async () => {
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, flowWith([{ event_type: "speech.detected" }, { event_type: "call.ended" }]));
        const result = await runVwh(["simulate", file, "--url", server.url, "--calls", "20", "--concurrency", "4", "--pipelining", "2", "--workers", "2", "--json"], { env });
        assert.equal(result.code, 0, result.stdout + result.stderr);
        const report = JSON.parse(result.stdout) as LoadReport & { pipelining: number; workers: number };
        assert.deepEqual([report.calls.passed, report.events.total, report.pipelining, report.workers], [20, 40, 2, 2]);
        assert.equal(report.latency.p50_ms > 0 && report.per_event_type.length, 2);
        assert.equal(server.requests.length, 40);
        assert.ok(server.requests.every((request) => String(request.headers["webhook-signature"]).startsWith("v1,")));
      });
    } finally {
      await server.close();
    }
  });

  it("--rate spaces call starts (open loop)", async () => {
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, flowWith([{ event_type: "call.ended" }]));
        const result = await runVwh(["simulate", file, "--url", server.url, "--calls", "6", "--rate", "10", "--json"], { env });
        assert.equal(result.code, 0, result.stderr);
        // A lower bound only: call 6 is not due until 500 ms after the run starts.
        const report = JSON.parse(result.stdout) as LoadReport;
        assert.ok(report.duration_ms >= 500, `took ${report.duration_ms} ms`);
        assert.equal(server.requests.length, 6);
      });
    } finally {
      await server.close();
    }
  });

  it("works with the fault flags, fails on bad replies (exit 1) and stops when unreachable (exit 3)", async () => {
    const bad = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "speak" }] }));
    try {
      const result = await runVwh(["simulate", fixture("dtmf-menu.json"), "--url", bad.url, "--calls", "5", "--duplicates", "1"], { env });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /failures {2}schema \d+/);
      assert.match(result.stdout, /first failures:\n {2}call_\S+ #1 call\.started: instructions\[0\]\.text: required/);
      assert.match(result.stdout, /faults {4}\d+ duplicated/);
    } finally {
      await bad.close();
    }
    const closed = await startServer(() => {});
    await closed.close();
    const unreachable = await runVwh(["simulate", fixture("dtmf-menu.json"), "--url", closed.url, "--calls", "50", "--json"], { env });
    assert.equal(unreachable.code, 3);
    const report = JSON.parse(unreachable.stdout) as { calls: { started: number } };
    assert.ok(report.calls.started < 50, "the run stops instead of hammering a dead address");
  });

  it("refuses combinations that do not make sense (exit 2)", async () => {
    for (const [args, message] of [
      [["--calls", "0"], /--calls: expected value >= 1, got 0/],
      [["--calls", "5", "--concurrency", "0"], /--concurrency: expected value >= 1, got 0/],
      [["--calls", "5", "--junit", "x.xml"], /--junit writes one testcase per event: it does not go with --calls/],
      [["--calls", "5", "--rate", "0"], /--rate: expected value > 0/],
      [["--calls", "5", "--pipelining", "0"], /--pipelining: expected value >= 1, got 0/],
      [["--pipelining", "2"], /--pipelining applies to load mode: give --calls too/],
      [["--workers", "2"], /--workers applies to load mode: give --calls too/],
    ] as const) {
      const result = await runVwh(["simulate", fixture("dtmf-menu.json"), "--url", "http://127.0.0.1:9/", ...args], { env });
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
  });
});

describe("progress bar", () => {
  const hasScript = existsSync("/usr/bin/script");
  it("shows on a terminal for runs longer than a second, and never under --json", { skip: hasScript ? false : "util-linux script(1) is not installed: no pseudo-terminal to test with" }, async () => {
    const server = await startServer(async (_request, response) => {
      await sleep(15);
      response.writeHead(204).end();
    });
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "flow.json");
        await writeFile(file, flowWith([{ event_type: "call.ended" }]));
        const command = (extra: string) => `${process.execPath} ${binPath} simulate ${file} --url ${server.url} --calls 150 --concurrency 1 ${extra}`;
        // Asynchronous: the handler runs in this process and must keep answering.
        const inTerminal = (extra: string) =>
          new Promise<{ status: number | null; stdout: string }>((resolve) => {
            const child = spawn("/usr/bin/script", ["-qec", command(extra), "/dev/null"], { env: { ...process.env, ...env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "inherit"] });
            let stdout = "";
            child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
            child.on("close", (status) => resolve({ status, stdout }));
          });
        const shown = await inTerminal("");
        assert.equal(shown.status, 0, shown.stdout);
        assert.match(shown.stdout, /\d+\/150 calls/);
        const asJson = await inTerminal("--json");
        assert.doesNotMatch(asJson.stdout, /\/150 calls/);
      });
    } finally {
      await server.close();
    }
  });
});
