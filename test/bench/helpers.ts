/** What `npm run bench` and `npm run bench:designs` share: the trivial handler, autocannon, figures. */
import { spawn } from "node:child_process";
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

/** Closed loop at full speed, or paced at `overallRate` requests per second. */
export async function runAutocannon(url: string, body: string, pipelined: number, overallRate?: number): Promise<Rate> {
  const result = await autocannon({
    url,
    connections,
    pipelining: pipelined,
    duration: seconds,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    ...(overallRate && { overallRate }),
  });
  return { perSecond: result.requests.average, p50Ms: result.latency.p50, p99Ms: result.latency.p99 };
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
