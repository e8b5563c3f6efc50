/**
 * `npm run bench`: figures, never assertions (these machines are shared and noisy).
 *  1. A trivial handler in its own process. Each round sandwiches vwh between two autocannon runs
 *     against that same handler, so every ratio compares rates taken moments apart: without
 *     pipelining (autocannon vs vwh load mode), then with pipelining 10 (autocannon pipelined is the
 *     handler's own ceiling). Every figure is min / median / max over the rounds.
 *  2. `vwh --help` cold start against bare `node -e 0`.
 *  3. vwh's peak RSS at 10k and 100k calls.
 *  4. Where vwh's time goes, in process: CPU per event of the engine alone (a canned reply, no
 *     network), of the fast client alone (one fixed request, no engine), and of both (load mode);
 *     and of reading one reply (llhttp and the headers object) as the handler sends it.
 * BENCH_ROUNDS (default 3) and BENCH_SECONDS (default 4) size the throughput part.
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { DeliveryResult, Transport } from "../../src/transport/undici.js";
import { createFastClient } from "../../src/transport/fast-client/index.js";
import { ResponseParser } from "../../src/transport/fast-client/llhttp.js";
import { runLoad } from "../../src/engine/load/run.js";
import { loadFlows } from "../../src/files/read-inputs.js";
import { engineOptions } from "../engine-helpers.js";
import { connections, reply, rounds, runAutocannon, runAutocannonPaced, seconds, spread, startHandler, median } from "./helpers.js";
import { binPath, newSecret, withTempDir } from "../helpers.js";

const pipelining = 10;
const secret = newSecret();

interface VwhLoadReport {
  events: { total: number; failed: number; per_second: number };
  latency: { p50_ms: number; p99_ms: number };
  duration_ms: number;
  peak_rss_bytes: number;
}

function runVwhLoad(flow: string, url: string, calls: number, concurrency: number, extra: string[] = []): Promise<VwhLoadReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [binPath, "simulate", flow, "--url", url, "--calls", String(calls), "--concurrency", String(concurrency), "--json", ...extra],
      {
        env: { ...process.env, VWH_SECRET: secret, NO_COLOR: "1" },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`vwh exited ${code}: ${out.slice(0, 500)}`));
      const report = JSON.parse(out) as VwhLoadReport;
      if (report.events.failed > 0) return reject(new Error(`vwh: ${report.events.failed} events failed`));
      resolve(report);
    });
  });
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
const load = () =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");

interface Variant {
  label: string;
  /** Issue 29's target for the same-round ratio. */
  target: number;
  pipelining: number;
  concurrency: number;
  extra: string[];
}

const variants: Variant[] = [
  { label: "no pipelining", target: 0.8, pipelining: 1, concurrency: connections, extra: [] },
  { label: `pipelining ${pipelining}`, target: 1, pipelining, concurrency: connections * pipelining, extra: ["--pipelining", String(pipelining)] },
];

await withTempDir(async (dir) => {
  const flow = join(dir, "flow.json");
  await writeFile(flow, JSON.stringify({ version: 1, name: "bench", events: [{ event_type: "call.started", expect: { instructions: ["speak", "listen"] } }] }));
  const envelope = JSON.stringify({
    event_type: "call.started",
    event_id: "evt_bench",
    call_id: "call_bench",
    sequence: 1,
    timestamp: new Date().toISOString(),
    payload: {},
  });

  console.log(`vwh bench — ${cpus()[0]?.model ?? "unknown cpu"} × ${cpus().length}, ${mib(totalmem())} RAM, node ${process.version}`);
  console.log(`load average at start: ${load()}\n`);
  const handler = await startHandler();
  try {
    // 1. Throughput: per round and variant, autocannon → vwh → autocannon on the same handler.
    // Long enough for the JIT to settle, so the first round's estimate of vwh's rate is not its cold one.
    const warmup = await runVwhLoad(flow, handler.url, 30_000, connections);
    let pacedRate = warmup.events.per_second;
    for (const variant of variants) {
      let estimate = warmup.events.per_second;
      const ratios: number[] = [];
      const figures = { autocannon: [] as number[], vwh: [] as number[], autocannonP99: [] as number[], vwhP99: [] as number[] };
      for (let round = 0; round < rounds; round++) {
        const before = await runAutocannon(handler.url, envelope, variant.pipelining);
        const vwh = await runVwhLoad(flow, handler.url, Math.max(20_000, Math.round(estimate * seconds)), variant.concurrency, variant.extra);
        const after = await runAutocannon(handler.url, envelope, variant.pipelining);
        estimate = vwh.events.per_second;
        const autocannonRate = (before.perSecond + after.perSecond) / 2;
        ratios.push(vwh.events.per_second / autocannonRate);
        figures.autocannon.push(autocannonRate);
        figures.vwh.push(vwh.events.per_second);
        figures.autocannonP99.push((before.p99Ms + after.p99Ms) / 2);
        figures.vwhP99.push(vwh.latency.p99_ms);
      }
      const vwhConcurrency =
        variant.pipelining > 1 ? `concurrency ${variant.concurrency} --pipelining ${variant.pipelining}` : `concurrency ${variant.concurrency}`;
      console.log(
        `throughput, ${variant.label} (trivial handler; autocannon ${connections} connections × pipelining ${variant.pipelining}; vwh ${vwhConcurrency}) — min / median / max of ${rounds} rounds`,
      );
      console.log(`  autocannon raw requests        ${spread(figures.autocannon, 0)} req/s   (p99 ${spread(figures.autocannonP99, 1)} ms)`);
      console.log(`  vwh signed + checked events    ${spread(figures.vwh, 0)} events/s (p99 ${spread(figures.vwhP99, 1)} ms)`);
      console.log(`  ratio vwh / autocannon         ${spread(ratios, 2)}   (target ≥ ${variant.target.toFixed(2)}; same round)\n`);
      if (variant.pipelining === 1) pacedRate = median(figures.vwh);
    }
    // 1b. Latency when neither is the bottleneck: both paced at the same rate, half of vwh's closed-loop
    // rate, so any gap in what they report is queueing the sender adds to what it measures.
    const paced = Math.max(1000, Math.round(pacedRate / 2 / 1000) * 1000);
    const pacedFigures = {
      autocannonP50: [] as number[],
      autocannonP99: [] as number[],
      reportedP50: [] as number[],
      reportedP99: [] as number[],
      vwhP50: [] as number[],
      vwhP99: [] as number[],
      warmP50: [] as number[],
      warmP99: [] as number[],
    };
    for (let round = 0; round < rounds; round++) {
      const autocannonPaced = await runAutocannonPaced(handler.url, envelope, paced);
      const vwhPaced = await runVwhLoad(flow, handler.url, paced * seconds, connections, ["--rate", String(paced)]);
      // autocannon runs in this process, warm from the runs before; vwh's --warmup gives it a second of the same calls first.
      const vwhWarm = await runVwhLoad(flow, handler.url, paced * seconds, connections, ["--rate", String(paced), "--warmup", String(paced)]);
      pacedFigures.autocannonP50.push(autocannonPaced.p50Ms);
      pacedFigures.autocannonP99.push(autocannonPaced.p99Ms);
      pacedFigures.reportedP50.push(autocannonPaced.reportedP50Ms);
      pacedFigures.reportedP99.push(autocannonPaced.reportedP99Ms);
      pacedFigures.vwhP50.push(vwhPaced.latency.p50_ms);
      pacedFigures.vwhP99.push(vwhPaced.latency.p99_ms);
      pacedFigures.warmP50.push(vwhWarm.latency.p50_ms);
      pacedFigures.warmP99.push(vwhWarm.latency.p99_ms);
    }
    console.log(`latency at a fixed rate (both paced at ${paced} req/s, ${connections} connections) — min / median / max of ${rounds} rounds`);
    console.log(`  autocannon, each reply's time  p50 ${spread(pacedFigures.autocannonP50, 2)} ms   p99 ${spread(pacedFigures.autocannonP99, 2)} ms`);
    console.log(
      `  autocannon's own report        p50 ${spread(pacedFigures.reportedP50, 1)} ms   p99 ${spread(pacedFigures.reportedP99, 1)} ms   (whole ms, coordinated-omission corrected)`,
    );
    const ratios = (p99s: number[]) => p99s.map((value, round) => value / pacedFigures.autocannonP99[round]!);
    console.log(`  vwh signed + checked, cold     p50 ${spread(pacedFigures.vwhP50, 2)} ms   p99 ${spread(pacedFigures.vwhP99, 2)} ms`);
    console.log(`  vwh --warmup ${String(paced).padEnd(17)} p50 ${spread(pacedFigures.warmP50, 2)} ms   p99 ${spread(pacedFigures.warmP99, 2)} ms`);
    console.log(`  p99 ratio vwh cold / autocannon ${spread(ratios(pacedFigures.vwhP99), 2)}   (same round, each reply's time)`);
    console.log(`  p99 ratio vwh --warmup / autocannon ${spread(ratios(pacedFigures.warmP99), 2)}   (target ≤ 1.10: both warm)\n`);

    console.log(`load average after throughput: ${load()}\n`);

    // 2. Cold start.
    const runs = 15;
    const bare = timeCommand(["-e", "0"], runs);
    const help = timeCommand([binPath, "--help"], runs);
    console.log(`cold start (median of ${runs})`);
    console.log(`  node -e 0                      ${bare.toFixed(1)} ms`);
    console.log(`  vwh --help                     ${help.toFixed(1)} ms   (+${(help - bare).toFixed(1)} ms; target ≤ +100 ms)\n`);

    // 3. Memory stays flat as the number of calls grows.
    const small = await runVwhLoad(flow, handler.url, 10_000, 64);
    const large = await runVwhLoad(flow, handler.url, 100_000, 64);
    console.log("peak RSS of vwh simulate --calls (1-event flow, concurrency 64)");
    console.log(`  10k calls                      ${mib(small.peak_rss_bytes)}   (${(small.duration_ms / 1000).toFixed(1)} s)`);
    console.log(`  100k calls                     ${mib(large.peak_rss_bytes)}   (${(large.duration_ms / 1000).toFixed(1)} s)`);
    console.log(`  ratio 100k / 10k               ${(large.peak_rss_bytes / small.peak_rss_bytes).toFixed(2)}   (target ≤ 1.50)\n`);

    // 4. Where the time goes: each part's CPU per event, in this process (JIT warmed by a first pass).
    const parts = await partCosts(flow, handler.url);
    console.log(`where vwh's time goes: CPU µs per event in process (1-event flow, concurrency ${connections}; min / median / max of ${rounds} rounds)`);
    for (const [label, figures] of parts)
      console.log(
        `  ${label.padEnd(46)} ${spread(
          figures.map((figure) => figure.cpuUs),
          1,
        )} µs   (${spread(
          figures.map((figure) => figure.perSecond),
          0,
        )} /s)`,
      );
  } finally {
    handler.stop();
  }
});

interface PartFigure {
  cpuUs: number;
  perSecond: number;
}

async function measure(count: number, work: () => Promise<void>): Promise<PartFigure> {
  const started = performance.now();
  const cpu = process.cpuUsage();
  await work();
  const used = process.cpuUsage(cpu);
  return { cpuUs: (used.user + used.system) / count, perSecond: count / ((performance.now() - started) / 1000) };
}

/** The engine with a canned reply, the fast client with a fixed request, and the two together. */
async function partCosts(flowFile: string, url: string): Promise<[string, PartFigure[]][]> {
  const flows = await loadFlows([flowFile]);
  const events = 40_000;
  const canned = Buffer.from(reply);
  const cannedTransport: Transport = async (): Promise<DeliveryResult> => ({
    ok: true,
    status: 200,
    headers: { "content-type": "application/json" },
    body: canned,
    latencyMs: 1,
  });
  const client = createFastClient({ connections });
  const options = engineOptions(url, secret);
  const request = {
    url: new URL(url),
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": "evt_bench", "webhook-timestamp": "1700000000", "webhook-signature": `v1,${"A".repeat(43)}=` },
    body: Buffer.from("{}"),
    timeoutMs: 5000,
    dispatcher: options.dispatcher,
  };
  const clientAlone = async () => {
    let sent = 0;
    const loop = async () => {
      while (sent++ < events) {
        const outcome = await client.deliver(request);
        if (!outcome.ok) throw new Error(outcome.message);
      }
    };
    await Promise.all(Array.from({ length: connections }, loop));
  };
  // The bench handler's reply as node sends it, read through the shared buffer as a socket read would be.
  const wire = Buffer.from(
    `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${canned.length}\r\nDate: ${new Date().toUTCString()}\r\n` +
      `Connection: keep-alive\r\nKeep-Alive: timeout=30\r\n\r\n${reply}`,
    "latin1",
  );
  const readBuffer = Buffer.alloc(wire.length);
  let contentTypes = 0;
  const parser = new ResponseParser({
    onHeaders: (_status, headers) => ((contentTypes += headers["content-type"] === undefined ? 0 : 1), 0),
    onBody: () => {},
    onComplete: () => {},
  });
  const parsingAlone = async () => {
    for (let i = 0; i < events; i++) {
      wire.copy(readBuffer);
      parser.execute(readBuffer);
    }
    if (contentTypes === 0) throw new Error("the parser read no headers");
  };
  const load = { calls: events, concurrency: connections, rate: undefined };
  const parts: [string, () => Promise<unknown>][] = [
    ["engine alone (canned reply, no network)", () => runLoad(flows, { ...options, transport: cannedTransport }, load)],
    ["fast client alone (a fixed request, no engine)", clientAlone],
    ["both: load mode (engine + fast client)", () => runLoad(flows, { ...options, transport: client.deliver }, load)],
    ["reading one reply (llhttp + headers object)", parsingAlone],
  ];
  const figures = new Map<string, PartFigure[]>(parts.map(([label]) => [label, []]));
  try {
    for (let round = 0; round <= rounds; round++) {
      for (const [label, work] of parts) {
        const figure = await measure(events, async () => void (await work()));
        if (round > 0) figures.get(label)!.push(figure); // round 0 warms the JIT
      }
    }
  } finally {
    await client.close();
    await options.dispatcher.close();
    parser.free();
  }
  return [...figures];
}
