/**
 * vwh simulate as users run it. The command contract — each exit path spawned once in the suite: exit 0 in
 * init-config.test.ts, 1 and 2 in piped-output.test.ts, 3 in start-up.test.ts, 130 in hardening.test.ts, and
 * colour on a real stdout here — and, in process through the real parser and command module, everything else.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { envelopeSchema } from "../../src/platforms/vwh/envelope.js";
import {
  ansiPattern,
  fixture,
  flowWith,
  json,
  loadExampleHandler,
  newSecret,
  refusingServer,
  runInProcess,
  runVwh,
  startListener,
  startServer,
  withFlowFile,
  withTempDir,
  type ExampleHandlerModule,
  type TestServer,
} from "../helpers.js";

const secret = newSecret();
const env = { VWH_SECRET: secret };
const allFixtures = ["reschedule.json", "dtmf-menu.json", "barge-in-hangup.json"].map(fixture);
let example: ExampleHandlerModule;

before(async () => {
  example = await loadExampleHandler();
});

/** A handler that verifies every delivery with the official standardwebhooks library. */
async function verifyingHandler(): Promise<TestServer & { state: { verified: number; rejected: string[] } }> {
  const state = { verified: 0, rejected: [] as string[] };
  const server = await startServer((request, response) => {
    try {
      new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
      state.verified++;
    } catch (error) {
      state.rejected.push((error as Error).message);
      return json(response, 401, { error: "bad signature" });
    }
    const event = JSON.parse(request.body.toString("utf8")) as { event_type: string; payload: Record<string, unknown> };
    const instructions = example.instructionsFor(event);
    if (!instructions) return void response.writeHead(204).end();
    json(response, 200, { instructions });
  });
  return Object.assign(server, { state });
}

describe("vwh simulate: the command contract", () => {
  let server: Awaited<ReturnType<typeof verifyingHandler>>;
  before(async () => (server = await verifyingHandler()));
  after(() => server.close());

  it("exit 0: delivers every event in order, signed so the official library verifies it", async () => {
    // In process: exit 0 is spawned by init-config.test.ts (vwh simulate in a project's subfolder, its settings
    // from the vwh.config.json found above it, which only a process's own working folder shows).
    const result = await runInProcess(["simulate", ...allFixtures, "--url", server.url], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(server.state.rejected.length, 0, server.state.rejected.join("\n"));
    assert.equal(server.state.verified, 18);
    assert.match(result.stdout, /✓ {3}1 {2}call\.started {13}200/);
    assert.match(result.stdout, /3 flows · 18 events · 18 passed · 0 failed/);
    assert.equal(result.stderr, "");
    assert.doesNotMatch(result.stdout, ansiPattern);
  });

  it("--json prints one JSON document on stdout, and --junit writes one testcase per event", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "report.xml");
      const result = await runInProcess(["simulate", ...allFixtures, "--url", server.url, "--json", "--junit", file], { env });
      assert.equal(result.code, 0, result.stderr);
      const report = JSON.parse(result.stdout) as {
        passed: boolean;
        exit_code: number;
        summary: { events: number };
        flows: { name: string; events: { instructions: string[]; latency_ms: number }[] }[];
      };
      assert.equal(report.passed, true);
      assert.equal(report.exit_code, 0);
      assert.deepEqual(report.summary.events, 18);
      assert.equal(report.flows[0]!.name, "Reschedule an appointment");
      assert.deepEqual(report.flows[0]!.events[0]!.instructions, ["speak", "listen"]);
      assert.equal(typeof report.flows[0]!.events[0]!.latency_ms, "number");
      const xml = await readFile(file, "utf8");
      assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>/);
      assert.equal(xml.match(/<testcase /g)?.length, 18);
      assert.equal(xml.match(/<testsuite /g)?.length, 3);
      assert.match(xml, /<testsuites name="vwh simulate" tests="18" failures="0"/);
    });
  });

  it("exit 1: fails an invalid instruction with its path", async () => {
    const broken = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "speak" }, { type: "listen" }] }));
    try {
      // In process: exit 1 is spawned by piped-output.test.ts (the text and the --json report through a pipe).
      const result = await runInProcess(["simulate", fixture("reschedule.json"), "--url", broken.url], { env });
      assert.equal(result.code, 1);
      assert.match(result.stdout, /✗ {3}1 {2}call\.started/);
      assert.match(result.stdout, /instructions\[0\]\.text: required \(a string\)/);
    } finally {
      await broken.close();
    }
  });

  it("exit 2: one line naming the problem, no stack trace, nothing sent", async () => {
    const before = server.requests.length;
    // In process: exit 2 for an unreadable flow is spawned by piped-output.test.ts (its stderr through a pipe),
    // and hardening.test.ts spawns two more exit 2s (commander's refusal, a secret given to --secret-env).
    const result = await runInProcess(["simulate", "/nonexistent/flow.json", "--url", server.url], { env });
    assert.equal(result.code, 2);
    assert.equal(result.stderr, "vwh: /nonexistent/flow.json: cannot read call flow: no such file\n");
    assert.equal(server.requests.length, before);
  });

  it("exit 3: names the address when nothing listens", async () => {
    const closed = await refusingServer();
    // In process: exit 3 is spawned by start-up.test.ts (a simulate against a port where nothing listens).
    const result = await runInProcess(["simulate", fixture("reschedule.json"), "--url", closed.url], { env });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(result.stdout, new RegExp(`could not reach the handler: connection refused \\(ECONNREFUSED\\) at 127\\.0\\.0\\.1:${closed.port}`));
    assert.match(result.stdout, /1 events? · 0 passed · 1 failed/);
  });

  it("vwh schema: the JSON Schema on stdout (spawned, exit 0, in piped-output.test.ts)", async () => {
    const result = await runInProcess(["schema", "instructions"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal((JSON.parse(result.stdout) as { $schema: string }).$schema, "https://json-schema.org/draft/2020-12/schema");
  });

  it("colours when forced, on a real stdout", async () => {
    await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
      const forced = await runVwh(["simulate", file, "--url", server.url], { env: { ...env, NO_COLOR: undefined, FORCE_COLOR: "1" } });
      assert.match(forced.stdout, ansiPattern);
    });
  });
});

describe("vwh simulate in process", () => {
  let server: Awaited<ReturnType<typeof verifyingHandler>>;
  before(async () => (server = await verifyingHandler()));
  after(() => server.close());

  it("sends the SPEC §1 envelope with delivery metadata in headers only", async () => {
    const before = server.requests.length;
    const result = await runInProcess(["simulate", fixture("reschedule.json"), "--url", server.url], { env });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const requests = server.requests.slice(before);
    const envelopes = requests.map((request) => JSON.parse(request.body.toString("utf8")) as Record<string, unknown>);
    assert.deepEqual(Object.keys(envelopes[0]!).sort(), ["call_id", "event_id", "event_type", "payload", "sequence", "timestamp"]);
    for (const envelope of envelopes) envelopeSchema.parse(envelope);
    assert.deepEqual(
      envelopes.map((envelope) => envelope.sequence),
      [1, 2, 3, 4, 5, 6, 7, 8],
    );
    assert.ok(envelopes.every((envelope) => envelope.call_id === "call_reschedule_001"));
    assert.equal(new Set(envelopes.map((envelope) => envelope.event_id)).size, 8);
    assert.deepEqual(envelopes[0]!.payload, { from: "+15550100001", to: "+15550100002", direction: "inbound" });
    // Platform time: the second event is after_ms 150 after the first.
    assert.equal(Date.parse(envelopes[1]!.timestamp as string) - Date.parse(envelopes[0]!.timestamp as string), 150);
    for (const [index, request] of requests.entries()) {
      assert.equal(request.method, "POST");
      assert.equal(request.headers["content-type"], "application/json");
      assert.equal(request.headers["vwh-attempt"], "1");
      assert.equal(request.headers["webhook-id"], envelopes[index]!.event_id);
    }
  });

  it("signs with every secret of a space-separated VWH_SECRET (rotation)", async () => {
    const before = server.requests.length;
    const result = await runInProcess(["simulate", fixture("dtmf-menu.json"), "--url", server.url], { env: { VWH_SECRET: `${newSecret()} ${secret}` } });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.equal(String(server.requests[before]!.headers["webhook-signature"]).split(" ").length, 2);
  });

  it("passes every bundled flow against the reference handler, which refuses a wrong secret", async () => {
    const reference = await startListener(example.createVoiceHandler({ secrets: [secret] }));
    try {
      const result = await runInProcess(["simulate", ...allFixtures, "--url", reference.url], { env });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      const forged = await runInProcess(["simulate", fixture("dtmf-menu.json"), "--url", reference.url], { env: { VWH_SECRET: newSecret() } });
      assert.equal(forged.code, 1);
      assert.match(forged.stdout, /expected status 2xx, got 401/);
    } finally {
      await reference.close();
    }
  });

  it("fails instructions that differ from the flow's expectation, naming both", async () => {
    const wrong = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "speak", text: "Hello" }] }));
    try {
      const result = await runInProcess(["simulate", fixture("reschedule.json"), "--url", wrong.url, "--json"], { env });
      assert.equal(result.code, 1);
      const report = JSON.parse(result.stdout) as { flows: { events: { failures: { path: string; message: string }[] }[] }[] };
      assert.deepEqual(report.flows[0]!.events[0]!.failures, [{ kind: "expect", path: "instructions", message: "expected [speak, listen], got [speak]" }]);
    } finally {
      await wrong.close();
    }
  });

  it("reports a timeout and carries on with the call", async () => {
    // The first event never gets an answer; the second does.
    const stalling = await startServer((request, response) => {
      if ((JSON.parse(request.body.toString("utf8")) as { sequence: number }).sequence !== 1) response.writeHead(204).end();
    });
    try {
      await withFlowFile(flowWith([{ event_type: "call.ended" }, { event_type: "call.ended" }]), async (file) => {
        const result = await runInProcess(["simulate", file, "--url", stalling.url, "--timeout", "50"], { env });
        assert.equal(result.code, 1);
        assert.match(result.stdout, /no reply within 50 ms/);
        assert.match(result.stdout, /2 events · 1 passed · 1 failed/);
      });
    } finally {
      await stalling.close();
    }
  });

  it("colours only when asked, never under NO_COLOR or --no-color", async () => {
    await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
      const args = ["simulate", file, "--url", server.url];
      const forced = await runInProcess(args, { env: { ...env, NO_COLOR: undefined, FORCE_COLOR: "1" } });
      assert.match(forced.stdout, ansiPattern);
      const noColorEnv = await runInProcess(args, { env: { ...env, NO_COLOR: "1", FORCE_COLOR: "1" } });
      assert.doesNotMatch(noColorEnv.stdout, ansiPattern);
      const noColorFlag = await runInProcess([...args, "--no-color"], { env: { ...env, NO_COLOR: undefined, FORCE_COLOR: "1" } });
      assert.doesNotMatch(noColorFlag.stdout, ansiPattern);
    });
  });

  it("warns that --secret is visible, and never prints the secret", async () => {
    await withFlowFile(flowWith([{ event_type: "call.ended" }]), async (file) => {
      const result = await runInProcess(["simulate", file, "--url", server.url, "--secret", secret, "--json", "--debug"]);
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stderr, /warning: --secret is visible in the process list/);
      assert.ok(!result.stdout.includes(secret) && !result.stderr.includes(secret));
    });
  });

  it("--help lists the exit codes; schema prints JSON Schema, and the committed copy is fresh", async () => {
    const help = await runInProcess(["simulate", "--help"]);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Exit codes:\n {2}0 {2}success\n {2}1 {2}a check failed/);
    const schema = await runInProcess(["schema", "call-flow"]);
    assert.equal(schema.code, 0);
    const parsed = JSON.parse(schema.stdout) as { $schema: string; required: string[] };
    assert.equal(parsed.$schema, "https://json-schema.org/draft/2020-12/schema");
    assert.deepEqual([...parsed.required].sort(), ["name", "version"]);
    // Each required field declared beside it: Ajv's strict mode (strictRequired) refuses a bare required.
    assert.deepEqual((parsed as { oneOf?: unknown }).oneOf, [
      { type: "object", properties: { events: {} }, required: ["events"] },
      { type: "object", properties: { script: {} }, required: ["script"] },
    ]);
    const committed = JSON.parse(await readFile(fixture("schema/call-flow.schema.json"), "utf8")) as unknown;
    assert.deepEqual(parsed, committed, "fixtures/schema/call-flow.schema.json is stale: regenerate it with vwh schema call-flow");
    const instructions = await runInProcess(["schema", "instructions"]);
    assert.match(instructions.stdout, /"const": "speak"/);
    const bad = await runInProcess(["schema", "nope"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /value 'nope' is invalid/);
  });
});

describe("vwh simulate refuses bad input before sending anything (exit 2)", () => {
  let server: TestServer;
  before(async () => (server = await startServer((_request, response) => void response.writeHead(204).end())));
  after(() => server.close());

  const cases: { name: string; content?: string; args?: (file: string) => string[]; env?: Record<string, string | undefined>; error: RegExp }[] = [
    {
      name: "an unreadable file",
      args: () => ["simulate", "/nonexistent/flow.json", "--url", server.url],
      error: /^vwh: \/nonexistent\/flow\.json: cannot read call flow: no such file$/m,
    },
    { name: "invalid JSON", content: '{"version": 1,\n "name": "x",, }', error: /flow\.json:2:14: invalid JSON: expected a double-quoted property name$/m },
    {
      name: "a schema violation",
      content: flowWith([{ event_type: "call.started", payload: { direction: "sideways" } }]),
      error: /flow\.json:\d+:\d+: events\[0\]\.payload\.direction: expected one of "inbound", "outbound", got "sideways"/,
    },
    {
      name: "an unknown instruction type in expect",
      content: flowWith([{ event_type: "call.started", expect: { instructions: ["say"] } }]),
      error: /events\[0\]\.expect\.instructions\[0\]: expected one of "speak", .*got "say"/,
    },
    { name: "no --url", args: (file) => ["simulate", file], error: /^vwh: missing --url: the handler's webhook URL$/m },
    { name: "no secret", env: { VWH_SECRET: undefined }, error: /^vwh: no signing secret: pass --secret or set VWH_SECRET$/m },
    {
      name: "a secret that is not whsec_ base64",
      env: { VWH_SECRET: "my-password-123" },
      error: /^vwh: secret \(VWH_SECRET\) is not a Standard Webhooks secret: expected whsec_ followed by base64$/m,
    },
    {
      name: "an unknown scheme",
      args: (file) => ["simulate", file, "--url", server.url, "--scheme", "nope"],
      error: /^vwh: --scheme: expected one of "standard", "stripe", "hmac", "twilio", "telnyx", "retell", "vonage", "plivo", "vapi", "bearer", got "nope"$/m,
    },
    {
      name: "a bad flag value",
      args: (file) => ["simulate", file, "--url", server.url, "--timeout", "1s"],
      error: /^vwh: --timeout: expected a whole number of milliseconds, got "1s"$/m,
    },
    { name: "an unknown flag", args: (file) => ["simulate", file, "--retry-forever"], error: /error: unknown option '--retry-forever'/ },
  ];
  for (const testCase of cases) {
    it(testCase.name, async () => {
      await withFlowFile(testCase.content ?? flowWith([{ event_type: "call.ended" }]), async (file) => {
        const before = server.requests.length;
        const args = testCase.args?.(file) ?? ["simulate", file, "--url", server.url];
        const result = await runInProcess(args, { env: { ...env, ...testCase.env } });
        assert.equal(result.code, 2, result.stdout + result.stderr);
        assert.match(result.stderr, testCase.error);
        assert.doesNotMatch(result.stderr, /^\s+at /m, "no stack trace without --debug");
        assert.ok(!result.stderr.includes(secret), "the secret never shows");
        assert.equal(server.requests.length, before, "nothing was sent");
      });
    });
  }

  it("--debug adds the stack trace", async () => {
    const result = await runInProcess(["simulate", "/nonexistent/flow.json", "--url", server.url, "--debug"], { env });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /^\s+at /m);
  });
});
