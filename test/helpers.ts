/**
 * Shared test helpers: spawn the built CLI (the command contract), run a command in process through the
 * real parser (everything else), a fake clock for the engine, real HTTP servers on 127.0.0.1:0, temp dirs.
 */
import type { CommandName } from "../src/cli/settings.js";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { Readable } from "node:stream";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import assert from "node:assert/strict";
import type { Command } from "commander";

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
      const request = { method: raw.method ?? "", url: raw.url ?? "", headers: raw.headers, body: Buffer.concat(chunks) };
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

/**
 * A loopback port for a child process to listen on. A port from `listen(0)` that is closed again goes back
 * to the kernel's ephemeral range, where any test's outgoing connection can take it before the child binds
 * it (CI saw exactly that); this one is drawn from below that range, which the kernel never hands out on
 * its own, and checked free.
 */
export async function unusedPort(): Promise<number> {
  const ephemeralLow = ephemeralRangeStart();
  const low = Math.max(1024, ephemeralLow - 12_000);
  for (;;) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (bound) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      return port;
    }
  }
}

/**
 * A TestServer's address where nothing listens, so connections are refused. A server closed again would
 * free its port for any other test's listen(0) or connection to take (the same race as above).
 */
export async function refusingServer(path = "/webhooks/voice"): Promise<TestServer> {
  const port = await unusedPort();
  return { url: `http://127.0.0.1:${port}${path}`, port, requests: [], close: async () => {} };
}

function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (Number.isInteger(low) && low > 13_024) return low;
  } catch {
    // not Linux: both macOS's (49152–) and Linux's default (32768–) ranges start above this
  }
  return 32_768;
}

/** A server for the duration of `work`, closed however it ends. */
export async function withServer<T>(handler: Handler, work: (server: TestServer) => Promise<T>): Promise<T> {
  const server = await startServer(handler);
  try {
    return await work(server);
  } finally {
    await server.close();
  }
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

/** Writes `content` as flow.json in a fresh temp dir, removed afterwards. */
export async function withFlowFile<T>(content: string, work: (file: string, dir: string) => Promise<T>): Promise<T> {
  return withTempDir(async (dir) => {
    const file = join(dir, "flow.json");
    await writeFile(file, content);
    return work(file, dir);
  });
}

/** A minimal valid flow, to be tweaked per test. */
export function flowWith(events: unknown[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ version: 1, name: "test flow", call: { call_id: "call_test" }, events, ...extra }, null, 2);
}

export const ansiPattern = /\u001b\[[0-9;]*m/;

export interface RunningVwh {
  /** The process's id (to read its memory from /proc). */
  pid: number | undefined;
  /** Resolves with the next complete stdout line. */
  nextLine(): Promise<string>;
  /** Sends a signal and resolves when the process exits. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
  stdout(): string;
  stderr(): string;
}

/** Starts a long-running command (vwh tunnel) and lets the test read its output line by line. */
export function spawnVwh(args: readonly string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}): RunningVwh {
  const env: Record<string, string | undefined> = {
    ...process.env,
    CI: "true",
    NO_COLOR: "1",
    FORCE_COLOR: undefined,
    VWH_SECRET: undefined,
    NGROK_AUTHTOKEN: undefined,
    ...options.env,
  };
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
    pid: child.pid,
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

export interface FakeClock {
  now(): number;
  /** The engine's wait: records the delay and moves the clock instead of sleeping. */
  wait(ms: number): Promise<void>;
  /** What a test handler calls to take "time" answering: the engine measures it as latency. */
  advance(ms: number): void;
  waits: number[];
}

/** Time moves only when the engine waits or a handler advances it, so every duration is exact. */
export function fakeClock(start = Date.now()): FakeClock {
  let time = start;
  const waits: number[] = [];
  const pending: { deadline: number; resolve: () => void }[] = [];
  return {
    now: () => time,
    advance: (ms) => void (time += ms),
    waits,
    // Waits begun together end at their own deadlines, as timers would: each is measured from its start, and each turn
    // ends the pending wait due first (a short wait begun after a long one does not end after it).
    wait: (ms) => {
      waits.push(ms);
      return new Promise<void>((resolve) => {
        pending.push({ deadline: time + ms, resolve });
        setImmediate(() => {
          let first = 0;
          for (let i = 1; i < pending.length; i++) if (pending[i]!.deadline < pending[first]!.deadline) first = i;
          const [due] = pending.splice(first, 1);
          time = Math.max(time, due!.deadline);
          due!.resolve();
        });
      });
    },
  };
}

/**
 * Runs a vwh command in this process through the real parser and command modules, with `env` as its environment.
 * `root`: a vwh package folder (an installed copy, node_modules/vwh) whose built modules run instead of this checkout's.
 * `cwd`: the working folder of a command that takes one (vwh export artillery); the others read the process's.
 */
export async function runInProcess(
  args: readonly string[],
  options: { env?: Record<string, string | undefined>; input?: string; root?: string; cwd?: string } = {},
): Promise<RunResult> {
  const base = options.root ? pathToFileURL(join(options.root, "dist", "src", "/")).href : new URL("../src/", import.meta.url).href;
  const load = (path: string): Promise<any> => import(new URL(path, base).href);
  const { createProgram, settingsInput } = (await load("cli/program.js")) as typeof import("../src/cli/program.js");
  const { reportError } = (await load("ui/report-error.js")) as typeof import("../src/ui/report-error.js");
  const env = Object.fromEntries(
    Object.entries({ CI: "true", NO_COLOR: "1", ...options.env }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let stdout = "";
  let stderr = "";
  const streams = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    stdin: Readable.from([Buffer.from(options.input ?? "")]),
  };
  const output = { writeOut: (text: string) => void (stdout += text), writeErr: (text: string) => void (stderr += text) };
  // Each command's action as src/cli.ts has it, with this environment and these streams instead of the process's.
  const actions: Record<string, (...args: any[]) => Promise<void>> = {
    simulate: async (files: string[], _options: unknown, command: Command) =>
      ((await load("commands/simulate.js")) as typeof import("../src/commands/simulate.js")).simulateCommand(
        files,
        settingsInput(command, "simulate"),
        env,
        streams,
      ),
    sign: async (file: string | undefined, _options: unknown, command: Command) =>
      ((await load("commands/sign.js")) as typeof import("../src/commands/sign.js")).signCommand(file, settingsInput(command, "sign"), env, streams),
    "verify-signature": async (_options: unknown, command: Command) =>
      ((await load("commands/verify-signature.js")) as typeof import("../src/commands/verify-signature.js")).verifySignatureCommand(
        settingsInput(command, "verify-signature"),
        env,
        streams,
      ),
    config: async (_options: unknown, command: Command) =>
      ((await load("commands/config.js")) as typeof import("../src/commands/config.js")).configCommand(settingsInput(command, "config"), env, streams),
    schema: async (format: string, _options: unknown, command: Command) =>
      ((await load("commands/schema.js")) as typeof import("../src/commands/schema.js")).schemaCommand(format, command.optsWithGlobals(), streams),
    platforms: async (_options: unknown, command: Command) =>
      ((await load("commands/platforms.js")) as typeof import("../src/commands/platforms.js")).platformsCommand(command.optsWithGlobals(), streams),
    // A tunnel that gets as far as listening stops at its first line (a running tunnel is spawned: spawnVwh).
    tunnel: async (port: string | undefined, _options: unknown, command: Command) => {
      const stop = new AbortController();
      const stdout = { write: (text: string) => (stop.abort(), streams.stdout.write(text)) };
      await ((await load("commands/tunnel.js")) as typeof import("../src/commands/tunnel.js")).tunnelCommand(port, settingsInput(command, "tunnel"), {
        env,
        streams: { ...streams, stdout },
        stop: stop.signal,
      });
    },
    "export artillery": async (files: string[], _options: unknown, command: Command) =>
      ((await load("commands/export.js")) as typeof import("../src/commands/export.js")).exportArtilleryCommand(
        files,
        settingsInput(command, "export artillery"),
        env,
        streams,
        options.cwd,
      ),
  };
  if (options.cwd !== undefined && !(args[0] === "export" && args[1] === "artillery")) {
    assert.fail(`vwh ${args[0]} reads the process's working folder: spawn it to run it elsewhere`);
  }
  const program = createProgram().configureOutput(output);
  for (const command of program.commands) {
    command.configureOutput(output);
    command.action(actions[command.name()] ?? (() => assert.fail(`vwh ${command.name()} is not run in process: spawn it`)));
    // Command groups (vwh export artillery): their subcommands run in process too.
    for (const subcommand of command.commands) {
      const name = `${command.name()} ${subcommand.name()}`;
      subcommand.configureOutput(output);
      subcommand.action(actions[name] ?? (() => assert.fail(`vwh ${name} is not run in process: spawn it`)));
    }
  }
  try {
    await program.parseAsync(["node", "vwh", ...args]);
    return { code: 0, stdout, stderr };
  } catch (error) {
    const report = reportError(error, { json: args.includes("--json"), debug: args.includes("--debug") });
    return { code: report.exitCode, stdout: stdout + report.stdout, stderr: stderr + report.stderr };
  }
}

/**
 * Starts `vwh tunnel …` in this process through the real parser and command, with `env` as its environment:
 * its output read line by line as spawnVwh's is, and `stop()` ends it as Ctrl-C does. For tunnel behaviour
 * that is not the process's own (signals, exit codes, a killed tunnel): those spawn.
 */
export async function tunnelInProcess(args: readonly string[], options: { env?: Record<string, string | undefined> } = {}): Promise<RunningVwh> {
  const { createProgram, settingsInput } = await import("../src/cli/program.js");
  const { tunnelCommand } = await import("../src/commands/tunnel.js");
  const { reportError } = await import("../src/ui/report-error.js");
  const env = Object.fromEntries(
    Object.entries({ CI: "true", NO_COLOR: "1", ...options.env }).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
  let stdout = "";
  let stderr = "";
  let consumed = 0;
  let closed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((resume) => resume());
  const streams = {
    stdout: { write: (text: string) => ((stdout += text), wake()) },
    stderr: { write: (text: string) => (stderr += text) },
  };
  const stop = new AbortController();
  const silent = { writeOut: (text: string) => void (stdout += text), writeErr: (text: string) => void (stderr += text) };
  const program = createProgram().configureOutput(silent);
  const tunnel = program.commands.find((command) => command.name() === "tunnel")!;
  tunnel.configureOutput(silent);
  tunnel.action((port: string | undefined, _options: unknown, command: Command) =>
    tunnelCommand(port, settingsInput(command, "tunnel"), { env, streams, stop: stop.signal }),
  );
  const exited = program.parseAsync(["node", "vwh", "tunnel", ...args]).then(
    () => 0,
    (error: unknown) => {
      const report = reportError(error, { json: args.includes("--json"), debug: false });
      stdout += report.stdout;
      stderr += report.stderr;
      return report.exitCode;
    },
  );
  void exited.then(() => ((closed = true), wake()));
  return {
    // In this process: no child whose memory to read.
    pid: undefined,
    async nextLine() {
      for (;;) {
        const end = stdout.indexOf("\n", consumed);
        if (end !== -1) {
          const line = stdout.slice(consumed, end);
          consumed = end + 1;
          return line;
        }
        if (closed) throw new Error(`vwh tunnel ended before printing a line; stderr: ${stderr}`);
        await new Promise<void>((resume) => waiters.push(resume));
      }
    },
    async stop() {
      stop.abort();
      return { code: await exited, stdout, stderr };
    },
    stdout: () => stdout,
    stderr: () => stderr,
  };
}

/** Parses argv with the real program and returns what the command's action would receive, without running it. */
export async function parseArgv(
  args: readonly string[],
): Promise<{ command: string; args: unknown[]; options: Record<string, unknown>; sources: Record<string, string | undefined> }> {
  const { createProgram, settingsInput } = await import("../src/cli/program.js");
  const program = createProgram();
  const silent = { writeOut: () => {}, writeErr: () => {} };
  program.configureOutput(silent);
  let parsed: Awaited<ReturnType<typeof parseArgv>> | undefined;
  for (const command of program.commands) {
    command.configureOutput(silent);
    command.action((...received: unknown[]) => {
      const self = received.at(-1) as Command;
      const { options, sources } = settingsInput(self, self.name() as CommandName);
      parsed = { command: self.name(), args: received.slice(0, -2), options, sources };
    });
  }
  await program.parseAsync(["node", "vwh", ...args]);
  assert.ok(parsed, `no command ran for ${args.join(" ")}`);
  return parsed;
}
