/** What `npm run bench` and `npm run bench:designs` share: the trivial handler, autocannon, figures. */
import { spawn } from "node:child_process";
import { createHistogram } from "node:perf_hooks";
import autocannon from "autocannon";

export const connections = 32;
export const rounds = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
export const seconds = Math.max(1, Number(process.env.BENCH_SECONDS ?? 4));
export const reply = JSON.stringify({ instructions: [{ type: "speak", text: "Hello, how can I help?" }, { type: "listen" }] });

/** The handler runs in a child process so that no load generator shares its event loop. */
export function startHandler(): Promise<{ url: string; stop: () => void }> {
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

export interface Rate {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
}

/** A paced run's latency: what autocannon reports, and the same replies' latencies as vwh records its own. */
export interface PacedRate extends Rate {
  reportedP50Ms: number;
  reportedP99Ms: number;
}

/** Closed loop at full speed. */
export async function runAutocannon(url: string, body: string, pipelined: number): Promise<Rate> {
  const result = await autocannon(autocannonOptions(url, body, pipelined));
  return { perSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
}

/**
 * Paced at `overallRate` requests per second. autocannon's own percentiles are whole milliseconds (its
 * histogram truncates 5.9 ms to 5) with a coordinated-omission correction; vwh records µs, uncorrected.
 * So the latencies to compare come from autocannon's response events (each reply's exact time since its
 * request was written, 2xx only, as it counts them) into the same histogram type vwh uses. Only paced runs
 * listen: a listener per reply would cost the closed-loop runs some of the rate they measure.
 */
export function runAutocannonPaced(url: string, body: string, overallRate: number): Promise<PacedRate> {
  const exact = createHistogram();
  return new Promise((resolve, reject) => {
    const instance = autocannon({ ...autocannonOptions(url, body, 1), overallRate }, (error, result) => {
      if (error) return reject(error);
      const ms = (value: number) => value / 1000;
      resolve({
        perSecond: result.requests.average,
        p50Ms: ms(exact.percentile(50)),
        p99Ms: ms(exact.percentile(99)),
        reportedP50Ms: result.latency.p50,
        reportedP99Ms: result.latency.p99,
      });
    });
    instance.on("response", (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) exact.record(Math.max(1, Math.round(responseTime * 1000)));
    });
  });
}

function autocannonOptions(url: string, body: string, pipelining: number): autocannon.Options {
  return { url, connections, pipelining, duration: seconds, method: "POST", headers: { "content-type": "application/json" }, body };
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** "min / median / max" of a figure over the rounds. */
export function spread(values: number[], digits: number): string {
  const format = (value: number) => value.toFixed(digits);
  return `${format(Math.min(...values))} / ${format(median(values))} / ${format(Math.max(...values))}`;
}
