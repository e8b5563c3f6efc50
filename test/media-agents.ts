/**
 * Local WebSocket agents for the media-stream tests (issue 17), and the run helper: a vwh-platform
 * webhook handler whose first reply is a `stream` instruction to a `ws` server on the same port, and an
 * in-process runSimulation on a fake clock with the media lockstep on.
 */
import { writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { WebSocketServer, type WebSocket } from "ws";
import { loadFlow } from "../src/files/call-flow.js";
import { runSimulation } from "../src/engine/run.js";
import { type SimulationOptions } from "../src/engine/options.js";
import { type SimulationResult } from "../src/engine/results.js";
import { toJsonReport } from "../src/ui/simulate-report.js";
import { engineOptions } from "./engine-helpers.js";
import { newSecret } from "./helpers.js";

export type Agent = (socket: WebSocket, request: IncomingMessage) => void;

export interface AgentServer {
  webhookUrl: string;
  streamUrl: string;
  /** Every message the agent received, parsed when JSON. */
  received: unknown[];
  handshakes: IncomingMessage["headers"][];
  close(): Promise<void>;
}

/** A webhook handler (vwh platform) that answers call.started with a stream to its own /media socket. */
export async function startAgentServer(agent: Agent, instruction: Record<string, unknown> = {}): Promise<AgentServer> {
  const received: unknown[] = [];
  const handshakes: IncomingMessage["headers"][] = [];
  let streamUrl = "";
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const event = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { event_type: string };
      if (event.event_type !== "call.started") return response.writeHead(204).end();
      const body = JSON.stringify({ instructions: [{ type: "stream", url: streamUrl, ...instruction }] });
      response.writeHead(200, { "content-type": "application/json" }).end(body);
    });
  });
  const sockets = new WebSocketServer({ server, path: "/media" });
  sockets.on("connection", (socket, request) => {
    handshakes.push(request.headers);
    socket.on("message", (data: Buffer, binary: boolean) => {
      if (binary) return received.push(data);
      try {
        received.push(JSON.parse(data.toString("utf8")));
      } catch {
        received.push(data.toString("utf8"));
      }
    });
    agent(socket, request);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  streamUrl = `ws://127.0.0.1:${port}/media`;
  return {
    webhookUrl: `http://127.0.0.1:${port}/webhooks/voice`,
    streamUrl,
    received,
    handshakes,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      await new Promise<void>((resolve) => sockets.close(() => resolve()));
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A fake clock from now (signatures stay fresh): `wait` moves time on at once; the media lockstep keeps the agent in step with it. */
export function fakeClock(start = Date.now()) {
  let now = start;
  return { now: () => now, wait: async (ms: number) => void (now += ms) };
}

/** Runs one caller script (written to `dir`) against `target` in-process on a fake clock. */
export async function runScript(dir: string, target: string, flow: Record<string, unknown>, options: Partial<SimulationOptions> = {}) {
  const file = join(dir, `${String(flow["name"] ?? "script").replace(/\W+/g, "-")}.json`);
  await writeFile(file, JSON.stringify({ version: 1, ...flow }));
  return runFlowFile(file, target, newSecret(), options);
}

/** Runs a flow file against `target` in-process on a fake clock, signing with `secret`. */
export async function runFlowFile(
  file: string,
  target: string,
  secret: string,
  options: Partial<SimulationOptions> = {},
): Promise<{ result: SimulationResult; report: ReturnType<typeof toJsonReport> }> {
  const loaded = await loadFlow(file);
  const simulation = simulationOptions(target, secret);
  try {
    const result = await runSimulation([loaded], { ...simulation, ...options });
    const report = toJsonReport(result, runDescription(target), result.flows.every((f) => f.passed) ? 0 : 1);
    return { result, report };
  } finally {
    await simulation.dispatcher.close();
  }
}

/** In-process simulation options: standard signatures with `secret`, no faults, a fresh fake clock, the media lockstep on. */
export function simulationOptions(target: string, secret: string) {
  const clock = fakeClock();
  return engineOptions(target, secret, { budgetMs: 200, now: clock.now, wait: clock.wait, mediaLockstep: true });
}

/** The run description the reports start with, for `simulationOptions`. */
export const runDescription = (target: string) => ({ target, scheme: "standard", budgetMs: 200, timeoutMs: 5000, retries: 0, profile: undefined, seed: 1 });

/** Energy voice-activity detection, as agents do it: a frame with any sample beyond ±500 is speech. */
export const isSpeech = (samples: Int16Array): boolean => samples.some((sample) => Math.abs(sample) > 500);

/**
 * The turn-taking most agents use: feed it the caller's frames; after speech followed by `endOfSpeech`
 * silent frames, `onEnd` runs with the speech heard; the first speech frame after silence calls
 * `onStart` (barge-in detection).
 */
export function turnTaker(endOfSpeechFrames: number, onEnd: (speech: Int16Array[]) => void, onStart: () => void = () => {}) {
  let speech: Int16Array[] = [];
  let silent = 0;
  let talking = false;
  return (samples: Int16Array) => {
    if (isSpeech(samples)) {
      if (!talking) onStart();
      talking = true;
      silent = 0;
      speech.push(samples);
      return;
    }
    if (!talking) return;
    speech.push(samples);
    if (++silent < endOfSpeechFrames) return;
    talking = false;
    const heard = speech.slice(0, speech.length - silent);
    speech = [];
    silent = 0;
    onEnd(heard);
  };
}
