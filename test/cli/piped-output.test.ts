/**
 * Output piped to a slow reader arrives whole: vwh never exits before stdout and stderr have drained. A write
 * to a pipe is asynchronous, so a process.exit() straight after it cut a report at the pipe's 64 KiB.
 * Each command's largest output is read by a consumer that stops reading after the first chunk and resumes a
 * moment later (or when vwh exits, which is what a truncated report looked like).
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after, before, describe, it } from "node:test";
import { schemaFormats, jsonSchemaFor } from "../../src/files/json-schemas.js";
import { binPath, flowWith, json, newSecret, startServer, withFlowFile, type TestServer } from "../helpers.js";

const secret = newSecret();

interface Piped {
  code: number | null;
  stdout: Buffer;
  stderr: Buffer;
}

/** Runs vwh with both streams piped to a reader that pauses after the first chunk of each. */
function runSlowlyRead(args: readonly string[], env: Record<string, string> = {}): Promise<Piped> {
  const childEnv: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: undefined, VWH_SECRET: undefined, ...env };
  for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
  const child = spawn(process.execPath, [binPath, ...args], { env: childEnv as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
  let exited = false;
  const resumers: (() => void)[] = [];
  child.on("exit", () => {
    exited = true;
    resumers.splice(0).forEach((resume) => resume());
  });
  const collect = (stream: NodeJS.ReadableStream): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    let paused = false;
    stream.on("data", (chunk: Buffer) => {
      chunks.push(chunk);
      if (paused || exited) return;
      paused = true;
      stream.pause();
      const resume = () => stream.resume();
      resumers.push(resume);
      setTimeout(resume, 300);
    });
    return new Promise((resolve) => stream.on("end", () => resolve(Buffer.concat(chunks))));
  };
  const stdout = collect(child.stdout);
  const stderr = collect(child.stderr);
  return new Promise((resolve) => child.on("close", async (code) => resolve({ code, stdout: await stdout, stderr: await stderr })));
}

describe("piped output: every command's largest output reaches a slow reader whole", { concurrency: true }, () => {
  let server: TestServer;
  before(async () => {
    // 4 unknown fields with 1200-character names per reply: each event's findings make the report hundreds of KiB
    // (~470 KiB of text, ~520 KiB of JSON for the 60 events below). 40 fields of 120 characters made the same
    // size with ten times the findings: 2400 per run, about 0.15 s more CPU in each of the two spawned runs.
    const instructions = Array.from({ length: 4 }, (_, index) => ({ type: "speak", text: "hello", [`field_${index}_${"x".repeat(1200)}`]: 1 }));
    server = await startServer((_request, response) => json(response, 200, { instructions }));
  });
  after(() => server.close());

  it("vwh schema <format>: every byte of the largest schema", async () => {
    // One process is enough: every format leaves through the same stdout (each format's output in process: simulate, tunnel, init-config tests).
    const [format, expected] = schemaFormats
      .map((name) => [name, `${JSON.stringify(jsonSchemaFor(name), null, 2)}\n`] as const)
      .reduce((largest, each) => (each[1].length > largest[1].length ? each : largest));
    assert.ok(Buffer.byteLength(expected) > 65536, `${format}: ${expected.length} bytes: the test needs more than one pipe buffer`);
    const result = await runSlowlyRead(["schema", format]);
    assert.equal(result.code, 0, result.stderr.toString());
    assert.equal(result.stdout.length, Buffer.byteLength(expected), format);
    assert.equal(result.stdout.toString(), expected);
  });

  const events = Array.from({ length: 60 }, (_, index) => ({ event_type: "call.started", payload: { text: `turn ${index}` } }));

  it("vwh simulate --json, 60 failing events: a report a JSON parser reads whole", async () => {
    await withFlowFile(flowWith(events), async (file) => {
      const result = await runSlowlyRead(["simulate", file, "--url", server.url, "--json"], { VWH_SECRET: secret });
      assert.ok(result.stdout.length > 4 * 65536, `${result.stdout.length} bytes: the test needs several pipe buffers`);
      const report = JSON.parse(result.stdout.toString()) as { exit_code: number; summary: { events: number }; flows: { events: unknown[] }[] };
      assert.equal(report.summary.events, 60);
      assert.equal(report.flows[0]!.events.length, 60);
      assert.equal(report.exit_code, 1);
      assert.equal(result.code, 1, result.stderr.toString());
    });
  });

  it("vwh simulate (text), 60 failing events: the summary line arrives after every event line", async () => {
    await withFlowFile(flowWith(events), async (file) => {
      const result = await runSlowlyRead(["simulate", file, "--url", server.url], { VWH_SECRET: secret });
      const text = result.stdout.toString();
      assert.ok(result.stdout.length > 4 * 65536, `${result.stdout.length} bytes: the test needs several pipe buffers`);
      assert.equal(text.match(/✗ +\d+ {2}/g)?.length, 60);
      assert.match(text, /1 flow · 60 events · 0 passed · 60 failed/);
      assert.equal(result.code, 1, result.stderr.toString());
    });
  });

  it("vwh platforms --json and vwh config --json: complete JSON", async () => {
    for (const args of [
      ["platforms", "--json"],
      ["config", "--json"],
    ]) {
      const result = await runSlowlyRead(args);
      assert.equal(result.code, 0, result.stderr.toString());
      assert.doesNotThrow(() => JSON.parse(result.stdout.toString()), `vwh ${args.join(" ")}`);
    }
  });

  it("stderr: a usage error's message arrives whole, with its exit code", async () => {
    const result = await runSlowlyRead(["simulate", "missing-flow.json", "--url", server.url], { VWH_SECRET: secret });
    assert.equal(result.code, 2);
    assert.match(result.stderr.toString(), /missing-flow\.json/);
    assert.ok(result.stderr.toString().endsWith("\n"));
  });

  it("a reader that goes away early (| head): no stack trace on stderr", async () => {
    await withFlowFile(flowWith(events), async (file) => {
      const childEnv: Record<string, string | undefined> = { ...process.env, CI: "true", NO_COLOR: "1", FORCE_COLOR: undefined, VWH_SECRET: secret };
      for (const key of Object.keys(childEnv)) if (childEnv[key] === undefined) delete childEnv[key];
      const child = spawn(process.execPath, [binPath, "simulate", file, "--url", server.url], {
        env: childEnv as NodeJS.ProcessEnv,
        stdio: ["ignore", "pipe", "pipe"],
      });
      let stderr = "";
      child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
      child.stdout.once("data", () => child.stdout.destroy());
      const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
      assert.doesNotMatch(stderr, /EPIPE|at .*\.js:\d+/);
      assert.notEqual(code, null);
    });
  });
});
