/** Shared test helpers: spawn the built CLI, real HTTP servers on 127.0.0.1:0, temp dirs. */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
export const binPath = join(repoRoot, "bin", "vwh.js");
export const fixture = (name: string) => join(repoRoot, "fixtures", name);

export function newSecret(): string {
  return `whsec_${randomBytes(24).toString("base64")}`;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `bin/vwh.js` as a user would, with colours off unless the test asks for them. */
export function runVwh(args: readonly string[], options: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: undefined, VWH_SECRET: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: env as NodeJS.ProcessEnv, cwd: options.cwd ?? repoRoot });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  receivedAt: number;
}

export interface TestServer {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

type Handler = (request: ReceivedRequest, response: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

/** A real node:http server on an ephemeral loopback port that records every request. */
export async function startServer(handler: Handler, path = "/webhooks/voice"): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer((raw, response) => {
    const chunks: Buffer[] = [];
    raw.on("data", (chunk: Buffer) => chunks.push(chunk));
    raw.on("end", () => {
      const request = { method: raw.method ?? "", url: raw.url ?? "", headers: raw.headers, body: Buffer.concat(chunks), receivedAt: performance.now() };
      requests.push(request);
      void Promise.resolve(handler(request, response, raw)).catch((error: unknown) => {
        response.statusCode = 500;
        response.end(String(error));
      });
    });
  });
  return listenOn(server, path, requests);
}

/** Listens on an ephemeral loopback port. */
async function listenOn(server: Server, path: string, requests: ReceivedRequest[]): Promise<TestServer> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}${path}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts a raw listener (for the reference handler, which reads its own body). */
export async function startListener(listener: RequestListener, path = "/webhooks/voice"): Promise<TestServer> {
  const requests: ReceivedRequest[] = [];
  const server = createServer(listener);
  return listenOn(server, path, requests);
}

export function json(response: ServerResponse, status: number, body: unknown): void {
  const bytes = Buffer.from(JSON.stringify(body));
  response.writeHead(status, { "content-type": "application/json", "content-length": bytes.length }).end(bytes);
}

export interface ExampleHandlerModule {
  createVoiceHandler(options: { secrets: string[]; log?: (line: string) => void }): RequestListener;
  instructionsFor(event: { event_type: string; payload?: Record<string, unknown> }): unknown[] | undefined;
  verifySignature(keys: Buffer[], headers: Record<string, string | undefined>, body: Buffer, now?: number): string | undefined;
  WEBHOOK_PATH: string;
}

export async function loadExampleHandler(): Promise<ExampleHandlerModule> {
  const specifier = pathToFileURL(join(repoRoot, "examples", "voice-handler.js")).href;
  return (await import(specifier)) as ExampleHandlerModule;
}

export async function withTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "vwh-test-"));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A minimal valid flow, to be tweaked per test. */
export function flowWith(events: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, name: "test flow", call: { call_id: "call_test" }, events, ...extra }, null, 2);
}

export const ansiPattern = /\u001b\[[0-9;]*m/;

export interface RunningVwh {
  /** Resolves with the next complete stdout line. */
  nextLine(): Promise<string>;
  /** Sends a signal and resolves when the process exits. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
  stdout(): string;
  stderr(): string;
}

/** Starts a long-running command (vwh tunnel) and lets the test read its output line by line. */
export function spawnVwh(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): RunningVwh {
  const env: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: undefined, VWH_SECRET: undefined, NGROK_AUTHTOKEN: undefined, ...options.env };
  for (const key of Object.keys(env)) if (env[key] === undefined) delete env[key];
  const child = spawn(process.execPath, [binPath, ...args], { env: env as NodeJS.ProcessEnv, cwd: options.cwd ?? repoRoot, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let consumed = 0;
  const waiters: (() => void)[] = [];
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    waiters.splice(0).forEach((wake) => wake());
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<RunResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })));
  void exited.then(() => waiters.splice(0).forEach((wake) => wake()));
  let closed = false;
  void exited.then(() => (closed = true));
  return {
    async nextLine() {
      for (;;) {
        const end = stdout.indexOf("\n", consumed);
        if (end !== -1) {
          const line = stdout.slice(consumed, end);
          consumed = end + 1;
          return line;
        }
        if (closed) throw new Error(`vwh exited before printing a line; stderr: ${stderr}`);
        await new Promise<void>((wake) => waiters.push(wake));
      }
    },
    async stop(signal = "SIGINT") {
      if (!closed) child.kill(signal);
      return exited;
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}
