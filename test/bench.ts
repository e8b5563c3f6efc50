/**
 * `npm run bench`: figures, never assertions (these machines are shared and noisy).
 *  1. A trivial handler in its own process; autocannon's raw request rate against it, then vwh's
 *     signed-and-checked event rate against the same handler, in the same run, and their ratio.
 *  2. `vwh --help` cold start against bare `node -e 0`.
 *  3. vwh's peak RSS at 10k and 100k calls.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import autocannon from "autocannon";
import { binPath, newSecret, withTempDir } from "./helpers.js";

const connections = 32;
const secret = newSecret();
const reply = JSON.stringify({ instructions: [{ type: "speak", text: "Hello, how can I help?" }, { type: "listen" }] });

/** The handler runs in a child process so that neither load generator shares its event loop. */
function startHandler(): Promise<{ url: string; stop: () => void }> {
  const source = `
    const reply = Buffer.from(${JSON.stringify(reply)});
    const server = require("node:http").createServer((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(200, { "content-type": "application/json", "content-length": reply.length }).end(reply));
    });
    server.keepAliveTimeout = 30000;
    server.listen(0, "127.0.0.1", () => console.log(server.address().port));`;
  const child = spawn(process.execPath, ["-e", source], { stdio: ["ignore", "pipe", "inherit"] });
  return new Promise((resolve) => {
    child.stdout.once("data", (port: Buffer) => resolve({ url: `http://127.0.0.1:${String(port).trim()}/webhooks/voice`, stop: () => child.kill() }));
  });
}

interface VwhLoadReport {
  events: { total: number; per_second: number };
  latency: { p50_ms: number; p99_ms: number };
  duration_ms: number;
  peak_rss_bytes: number;
}

function runVwhLoad(flow: string, url: string, calls: number, concurrency = connections): Promise<VwhLoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, "simulate", flow, "--url", url, "--calls", String(calls), "--concurrency", String(concurrency), "--json"], {
      env: { ...process.env, VWH_SECRET: secret, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as VwhLoadReport) : reject(new Error(`vwh exited ${code}: ${out.slice(0, 500)}`))));
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function timeCommand(args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    spawnSync(process.execPath, args, { stdio: "ignore" });
    times.push(performance.now() - started);
  }
  return median(times);
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;

await withTempDir(async (dir) => {
  const flow = join(dir, "flow.json");
  await writeFile(flow, JSON.stringify({ version: 1, name: "bench", events: [{ event_type: "call.started", expect: { instructions: ["speak", "listen"] } }] }));
  const envelope = JSON.stringify({ event_type: "call.started", event_id: "evt_bench", call_id: "call_bench", sequence: 1, timestamp: new Date().toISOString(), payload: {} });

  console.log(`vwh bench — ${cpus()[0]?.model ?? "unknown cpu"} × ${cpus().length}, ${mib(totalmem())} RAM, node ${process.version}\n`);
  const handler = await startHandler();
  try {
    // 1. Throughput, same handler, same run. A short vwh warm-up sizes the measured run to ~5 s.
    const seconds = 5;
    const raw = await autocannon({ url: handler.url, connections, duration: seconds, method: "POST", headers: { "content-type": "application/json" }, body: envelope });
    const warmup = await runVwhLoad(flow, handler.url, 2000);
    const calls = Math.max(5000, Math.round(warmup.events.per_second * seconds));
    const vwh = await runVwhLoad(flow, handler.url, calls);
    console.log("throughput (trivial handler, 32 connections / concurrency 32)");
    console.log(`  autocannon raw requests      ${raw.requests.average.toFixed(0)} req/s   (p50 ${raw.latency.p50} ms, p99 ${raw.latency.p99} ms)`);
    console.log(`  vwh signed + checked events  ${vwh.events.per_second.toFixed(0)} events/s (p50 ${vwh.latency.p50_ms} ms, p99 ${vwh.latency.p99_ms} ms, ${vwh.events.total} events)`);
    console.log(`  ratio vwh / autocannon       ${(vwh.events.per_second / raw.requests.average).toFixed(2)}   (target ≥ 0.80)\n`);

    // 2. Cold start.
    const runs = 15;
    const bare = timeCommand(["-e", "0"], runs);
    const help = timeCommand([binPath, "--help"], runs);
    console.log(`cold start (median of ${runs})`);
    console.log(`  node -e 0                    ${bare.toFixed(1)} ms`);
    console.log(`  vwh --help                   ${help.toFixed(1)} ms   (+${(help - bare).toFixed(1)} ms; target ≤ +100 ms)\n`);

    // 3. Memory stays flat as the number of calls grows.
    const small = await runVwhLoad(flow, handler.url, 10_000, 64);
    const large = await runVwhLoad(flow, handler.url, 100_000, 64);
    console.log("peak RSS of vwh simulate --calls (1-event flow, concurrency 64)");
    console.log(`  10k calls                    ${mib(small.peak_rss_bytes)}   (${(small.duration_ms / 1000).toFixed(1)} s)`);
    console.log(`  100k calls                   ${mib(large.peak_rss_bytes)}   (${(large.duration_ms / 1000).toFixed(1)} s)`);
    console.log(`  ratio 100k / 10k             ${(large.peak_rss_bytes / small.peak_rss_bytes).toFixed(2)}   (target ≤ 1.50)`);
  } finally {
    handler.stop();
  }
});
