/**
 * The Telnyx platform (issue 14): caller scripts against examples/telnyx-handler.js, written with the
 * official `telnyx` SDK and pointed at vwh's local Call Control API; bad command bodies, speak before
 * answer, command_id dedup, client_state echo, signatures in the SDK, and the grammar's freshness.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { RequestListener } from "node:http";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import Telnyx from "telnyx";
import { createDispatcher } from "../../src/transport/undici.js";
import { callFlowSchema, loadFlow, platformProblems, type LoadedFlow } from "../../src/files/call-flow.js";
import { runLoad } from "../../src/engine/load/run.js";
import { CallControlApi } from "../../src/platforms/telnyx/api-server.js";
import { TelnyxCallDriver } from "../../src/platforms/telnyx/driver.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import type { CallSetup, PlatformRun } from "../../src/platforms/types.js";
import { getScheme } from "../../src/signing/index.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import { runSimulation } from "../../src/engine/run.js";
import { type SimulationOptions } from "../../src/engine/options.js";
import { type SimulationResult } from "../../src/engine/results.js";
import { engineOptions } from "../engine-helpers.js";
import { fixture, newSecret, repoRoot, runInProcess, startListener, startServer, json, unusedPort, type ReceivedRequest, type TestServer } from "../helpers.js";

interface TelnyxHandlerModule {
  createTelnyxHandler(options: { apiKey?: string; baseURL?: string; publicKey?: string; log?: (line: string) => void }): RequestListener;
  WEBHOOK_PATH: string;
}
const example = (await import(pathToFileURL(join(repoRoot, "examples", "telnyx-handler.js")).href)) as TelnyxHandlerModule;

interface Harness {
  run: PlatformRun;
  baseURL: string;
  publicKey: string;
  close(): Promise<void>;
}

async function openHarness(): Promise<Harness> {
  const run = await telnyxPlatform.openRun({ settings: {}, secrets: [] });
  const api = run.settings["telnyxApi"] as CallControlApi;
  return { run, baseURL: api.baseUrl, publicKey: rawPublicKeyBase64(parseTelnyxPrivateKey(run.secrets[0]!)), close: () => run.close() };
}

/** The engine's options for a Telnyx run: the run's generated key signs, its API serves the calls. */
function options(harness: Harness, target: string, extra: Partial<SimulationOptions> = {}): SimulationOptions {
  // engineOptions signs with Standard Webhooks by default: its secret is replaced by the Telnyx signer.
  return engineOptions(target, newSecret(), {
    signer: getScheme("telnyx").create(harness.run.secrets, { purpose: "sign" }),
    signatureHeaders: ["telnyx-signature-ed25519", "telnyx-timestamp"],
    faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
    dispatcher: createDispatcher(8),
    platformRuns: { telnyx: harness.run },
    ...extra,
  });
}

function scriptFlow(script: unknown[], settings: Record<string, unknown> = { command_timeout_ms: 150 }): LoadedFlow {
  const flow = callFlowSchema.parse({ version: 1, platform: "telnyx", name: "test", call: { from: "+15550100001", to: "+15550100300" }, settings, script });
  return { file: "test.json", flow, platform: telnyxPlatform };
}

const failuresOf = (result: SimulationResult) => result.flows.flatMap((flow) => (flow.turns ?? []).flatMap((turn) => turn.failures));
const bodyOf = (request: ReceivedRequest) =>
  JSON.parse(request.body.toString("utf8")) as { data: { event_type: string; id: string; payload: Record<string, unknown> } };

/** A handler written for the test: `onEvent` sends commands with the SDK and records what the API answered. */
async function sdkHandler(harness: Harness, onEvent: (client: Telnyx, type: string, payload: Record<string, unknown>) => Promise<void>): Promise<TestServer> {
  const client = new Telnyx({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, maxRetries: 0 });
  return startServer(async (request, response) => {
    const { data } = bodyOf(request);
    await onEvent(client, data.event_type, data.payload);
    json(response, 200, { ok: true });
  }, "/webhooks/telnyx");
}

async function refusal(promise: Promise<unknown>): Promise<{ status: number; errors: { code: string; title: string; source?: { pointer: string } }[] }> {
  try {
    await promise;
  } catch (error) {
    const apiError = error as { status: number; error: { errors: { code: string; title: string }[] } };
    return { status: apiError.status, errors: apiError.error.errors };
  }
  throw new Error("expected the API to refuse the command");
}

describe("telnyx platform against the example handler (official telnyx SDK)", () => {
  it("passes the bundled caller scripts, also with --reorder and --duplicates", async () => {
    const harness = await openHarness();
    const logs: string[] = [];
    const server = await startListener(
      example.createTelnyxHandler({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, log: (line) => logs.push(line) }),
      example.WEBHOOK_PATH,
    );
    try {
      const flows = await Promise.all(["telnyx-menu.json", "telnyx-goodbye.json"].map((name) => loadFlow(fixture(`scripts/${name}`))));
      const result = await runSimulation(flows, options(harness, server.url));
      assert.deepEqual(failuresOf(result), []);
      assert.ok(
        result.flows.every((flow) => flow.passed),
        JSON.stringify(result.flows, null, 1),
      );
      assert.deepEqual(
        result.flows[0]!.turns!.map((turn) => turn.actions),
        [
          ["speak", "listen"],
          ["speak", "listen"],
          ["speak", "transfer"],
        ],
      );
      assert.deepEqual(
        result.flows[0]!.events.map((event) => event.eventType),
        [
          "call.initiated",
          "call.answered",
          "call.dtmf.received",
          "call.gather.ended",
          "call.dtmf.received",
          "call.gather.ended",
          "call.speak.started",
          "call.speak.ended",
          "call.bridged",
          "call.hangup",
        ],
      );
      // Telnyx's documented out-of-order and duplicate deliveries: an idempotent handler still passes.
      const faulty = await runSimulation(flows, options(harness, server.url, { faults: { duplicates: 1, reorderWindow: 3, seed: 11, bail: false } }));
      assert.deepEqual(failuresOf(faulty), []);
      assert.ok(faulty.flows.every((flow) => flow.passed && flow.events.every((event) => event.duplicate?.passed)));
      assert.deepEqual(logs, []);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("runs many calls on one Call Control API in load mode, its warm-up's calls too", async () => {
    const harness = await openHarness();
    const server = await startListener(
      example.createTelnyxHandler({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, log: () => {} }),
      example.WEBHOOK_PATH,
    );
    try {
      const result = await runLoad([await loadFlow(fixture("scripts/telnyx-menu.json"))], options(harness, server.url), {
        calls: 6,
        concurrency: 3,
        rate: undefined,
        warmup: 2,
      });
      assert.equal(result.stats.callsPassed, 6);
      assert.equal(result.stats.callsFailed, 0);
      assert.deepEqual([result.warmup?.calls, result.warmup?.failed], [2, 0]);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("signs webhooks the SDK verifies, and the handler refuses a forged one", async () => {
    const harness = await openHarness();
    const server = await startListener(
      example.createTelnyxHandler({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, log: () => {} }),
      example.WEBHOOK_PATH,
    );
    const recorder = await startServer((_request, response) => void response.writeHead(200).end(), "/webhooks/telnyx");
    try {
      await runSimulation([scriptFlow([{}])], options(harness, recorder.url));
      const [first] = recorder.requests;
      const headers = first!.headers as Record<string, string>;
      const client = new Telnyx({ apiKey: "KEY_test", publicKey: harness.publicKey });
      const event = (await client.webhooks.unwrap(first!.body.toString("utf8"), { headers })) as { data?: { event_type?: string } };
      assert.equal(event.data?.event_type, "call.initiated");
      await assert.rejects(client.webhooks.unwrap(first!.body.toString("utf8").replace("parked", "bridged"), { headers }));
      // Signed with another key: the example handler answers 401, and the call is never answered.
      const other = getScheme("telnyx").create([{ value: getScheme("telnyx").randomSecret(), source: "test" }], { purpose: "sign" });
      const forged = await runSimulation([scriptFlow([{}])], options(harness, server.url, { signer: other }));
      assert.equal(forged.flows[0]!.events[0]!.status, 401);
      assert.equal(forged.flows[0]!.passed, false);
    } finally {
      await Promise.all([server.close(), recorder.close()]);
      await harness.close();
    }
  });
});

describe("telnyx Call Control API checks", () => {
  it("names invalid command bodies by path and answers Telnyx-shaped 422s", async () => {
    const harness = await openHarness();
    const answers: Record<string, Awaited<ReturnType<typeof refusal>>> = {};
    const server = await sdkHandler(harness, async (client, type, payload) => {
      const id = String(payload["call_control_id"]);
      if (type === "call.initiated") await client.calls.actions.answer(id, {});
      if (type !== "call.answered") return;
      answers["missing"] = await refusal(client.calls.actions.speak(id, { payload: "Hello" } as never));
      answers["type"] = await refusal(client.calls.actions.gatherUsingSpeak(id, { payload: 42, voice: "female" } as never));
      answers["enum"] = await refusal(client.calls.actions.reject(id, { cause: "NO_THANKS" } as never));
      answers["unknown"] = await refusal(client.post(`/calls/${id}/actions/dance`, { body: {} }));
      answers["state"] = await refusal(client.calls.actions.speak(id, { payload: "Hi", voice: "female", client_state: "not base64!" }));
      await client.calls.actions.hangup(id, {});
    });
    try {
      const result = await runSimulation([scriptFlow([{ expect: { ends: "handler_hangup" } }])], options(harness, server.url));
      const failures = failuresOf(result).map((finding) => `${finding.path}: ${finding.message}`);
      assert.deepEqual(
        failures.map((line) => line.split(":")[0]),
        ["speak.voice", "gather_using_speak.payload", "reject.cause", "actions/dance", "speak.client_state"],
      );
      assert.match(failures[0]!, /required by ActionSpeakParams \(telnyx \d+\.\d+\.\d+\)/);
      assert.match(failures[1]!, /expected string, got 42/);
      assert.match(failures[2]!, /expected one of "CALL_REJECTED", "USER_BUSY", got "NO_THANKS"/);
      assert.equal(answers["missing"]!.status, 422);
      assert.deepEqual(answers["missing"]!.errors, [
        { code: "10004", title: "Missing required parameter", detail: "The 'voice' parameter is required.", source: { pointer: "/voice" } },
      ]);
      assert.equal(answers["unknown"]!.status, 422);
      assert.equal(answers["enum"]!.errors[0]!.source?.pointer, "/cause");
      assert.equal(answers["state"]!.status, 422);
      assert.equal(result.flows[0]!.turns![0]!.ended, "handler_hangup");
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("refuses a speak before answer with the real API's 90034, and fails a call never answered", async () => {
    const harness = await openHarness();
    let answer: Awaited<ReturnType<typeof refusal>> | undefined;
    const server = await sdkHandler(harness, async (client, type, payload) => {
      if (type === "call.initiated")
        answer = await refusal(client.calls.actions.speak(String(payload["call_control_id"]), { payload: "Hello", voice: "female" }));
    });
    try {
      const result = await runSimulation([scriptFlow([{ expect: { actions: ["speak"] } }, { press: "1" }])], options(harness, server.url));
      assert.equal(answer!.status, 422);
      assert.deepEqual(answer!.errors, [
        { code: "90034", title: "Call not answered yet", detail: "This call can't receive speak command because it has not been answered yet." },
      ]);
      const failures = failuresOf(result).map((finding) => `${finding.path ?? ""}: ${finding.message}`);
      assert.match(failures[0]!, /^speak: speak before answer: Telnyx refuses it with 422 90034/);
      assert.ok(
        failures.some((line) => /never answered the call/.test(line)),
        failures.join("\n"),
      );
      assert.equal(result.flows[0]!.turns![0]!.ended, "timeout");
      assert.deepEqual(
        result.flows[0]!.events.map((event) => event.eventType),
        ["call.initiated", "call.hangup"],
      );
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("ignores a repeated command_id and echoes client_state on the webhooks a command causes", async () => {
    const harness = await openHarness();
    const state = Buffer.from(JSON.stringify({ step: "greeting" })).toString("base64");
    const server = await sdkHandler(harness, async (client, type, payload) => {
      const id = String(payload["call_control_id"]);
      if (type === "call.initiated") await client.calls.actions.answer(id, { client_state: state });
      if (type === "call.answered") {
        for (let attempt = 0; attempt < 2; attempt++) await client.calls.actions.speak(id, { payload: "Welcome", voice: "female", command_id: "greet-1" });
      }
      if (type === "call.speak.ended") await client.calls.actions.hangup(id, { command_id: "bye-1" });
    });
    try {
      const result = await runSimulation([scriptFlow([{ expect: { actions: ["speak", "hangup"], says: "Welcome" } }])], options(harness, server.url));
      assert.deepEqual(failuresOf(result), []);
      const received = server.requests.map(bodyOf);
      assert.deepEqual(
        received.map(({ data }) => data.event_type),
        ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.hangup"],
      );
      assert.equal(received[0]!.data.payload["client_state"], null);
      assert.ok(received.slice(1).every(({ data }) => data.payload["client_state"] === state));
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("catches a handler that acts twice on a duplicate call.initiated (answer again)", async () => {
    const harness = await openHarness();
    const server = await sdkHandler(harness, async (client, type, payload) => {
      const id = String(payload["call_control_id"]);
      if (type === "call.initiated") await client.calls.actions.answer(id, {});
      if (type === "call.answered") await client.calls.actions.hangup(id, {});
    });
    try {
      const result = await runSimulation(
        [scriptFlow([{}])],
        options(harness, server.url, { faults: { duplicates: 1, reorderWindow: 0, seed: 3, bail: false } }),
      );
      const failures = failuresOf(result);
      assert.deepEqual(
        failures.map((finding) => [finding.kind, finding.path]),
        [["idempotency", "answer"]],
      );
      assert.match(failures[0]!.message, /duplicate call\.initiated was acted on twice/);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("plays gathers as Telnyx does: digits checked against valid_digits, timeouts, a stream move (driver in-process)", async () => {
    const api = await CallControlApi.open(0);
    try {
      const setup: CallSetup = {
        call: { callId: "call_unit", from: undefined, to: undefined, direction: undefined },
        url: new URL("http://127.0.0.1:1/webhooks/telnyx"),
        start: new Date(0),
        newId: (prefix) => `${prefix}_1`,
        settings: { command_timeout_ms: 40 },
        now: () => 0,
        wait: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      };
      const driver = new TelnyxCallDriver(setup, api);
      const command = (name: string, body: Record<string, unknown>) =>
        driver.receive({ command: name, method: "POST", body: { ok: true, value: body }, authorized: true });
      const sent: string[] = [];
      const step = async () => {
        const move = await driver.next();
        if (move.kind === "send") {
          sent.push(
            `${move.webhook.eventType}${move.webhook.eventType === "call.gather.ended" ? ` ${JSON.stringify(JSON.parse(move.webhook.request.body.toString()).data.payload.status)}` : ""}`,
          );
          driver.replied(move.webhook, { ok: false, message: "not delivered" });
        }
        return move;
      };
      assert.deepEqual(driver.receive({ command: "answer", method: "POST", body: { ok: true, value: {} }, authorized: false }).body, {
        errors: [
          { code: "10009", title: "Authentication failed", detail: "The required authentication headers were either invalid or not included in the request." },
        ],
      });
      assert.equal(driver.receive({ command: "answer", method: "POST", body: { ok: true, value: [] }, authorized: true }).status, 422);
      driver.caller({ kind: "connect" }, undefined);
      assert.equal((await step()).kind, "send");
      assert.equal(command("answer", {}).status, 200);
      assert.equal(command("gather_using_speak", { payload: "Press 1 or 2", voice: "female", valid_digits: "12", maximum_digits: 1 }).status, 200);
      const observed: string[][] = [];
      for (let move = await step(); move.kind !== "await-caller"; move = await step()) {
        if (move.kind === "observed") observed.push(...move.actions.map((action) => [action.type, action.path]));
      }
      assert.deepEqual(observed, [
        ["speak", "gather_using_speak.payload"],
        ["listen", "gather_using_speak"],
      ]);
      driver.caller({ kind: "press", digits: "9" }, undefined);
      while ((await step()).kind !== "await-caller");
      assert.equal(command("streaming_start", { stream_url: "wss://agent.example/media", stream_track: "both_tracks" }).status, 200);
      let move = await step();
      while (move.kind !== "stream") move = await step();
      assert.deepEqual(
        [move.stream.protocol, move.stream.url.href, move.stream.parameters],
        ["telnyx", "wss://agent.example/media", { stream_track: "both_tracks" }],
      );
      driver.streamEnded({ kind: "caller_hangup" });
      while (move.kind !== "ended") move = await step();
      assert.equal(move.reason, "caller_hangup");
      assert.deepEqual(sent, [
        "call.initiated",
        "call.answered",
        "call.dtmf.received",
        'call.gather.ended "invalid"',
        "streaming.started",
        "streaming.stopped",
        "call.hangup",
      ]);
      assert.deepEqual(command("speak", { payload: "late", voice: "female" }).body, {
        errors: [{ code: "90018", title: "Call has already ended", detail: "This call is no longer active and can't receive commands." }],
      });
      await driver.close();
    } finally {
      await api.close();
    }
  });

  it("checks events-mode flows against the SDK's event types", () => {
    const flow = callFlowSchema.parse({
      version: 1,
      platform: "telnyx",
      name: "events",
      events: [{ event_type: "call.initiated" }, { event_type: "call.answred" }],
    });
    const problems = platformProblems(flow, telnyxPlatform);
    assert.equal(problems.length, 1);
    assert.equal(problems[0]!.path, "events[1].event_type");
    assert.match(problems[0]!.message, /unknown Telnyx event type "call.answred"/);
    const request = telnyxPlatform.encode({
      eventType: "call.initiated",
      eventId: "e1",
      sequence: 1,
      timestamp: new Date(0),
      payload: {},
      call: { callId: "c1", from: undefined, to: undefined, direction: undefined },
      url: new URL("https://example.com/hook"),
    });
    assert.deepEqual(telnyxPlatform.identify({ method: "POST", path: "/hook", headers: {}, body: request.body }), {
      eventType: "call.initiated",
      callId: telnyxPlatform.nativeCallId!("c1"),
      eventId: "e1",
    });
  });

  it("keeps grammar.json in step with the installed telnyx SDK (scripts/extract-telnyx-grammar.mjs)", () => {
    const fresh = execFileSync(process.execPath, [join(repoRoot, "scripts", "extract-telnyx-grammar.mjs"), "--stdout"], { encoding: "utf8" });
    assert.equal(
      fresh,
      readFileSync(join(repoRoot, "src", "platforms", "telnyx", "grammar.json"), "utf8"),
      "grammar.json is stale: run node scripts/extract-telnyx-grammar.mjs",
    );
    const { source } = JSON.parse(fresh) as { source: { package: string; version: string } };
    const installed = JSON.parse(readFileSync(join(repoRoot, "node_modules", "telnyx", "package.json"), "utf8")) as { version: string };
    assert.deepEqual(source.version, installed.version);
  });
});

describe("vwh simulate --platform telnyx (CLI)", () => {
  it("prints TELNYX_BASE_URL and TELNYX_PUBLIC_KEY, serves the API on --telnyx-api-port, and passes", async () => {
    const secret = getScheme("telnyx").randomSecret();
    const publicKey = rawPublicKeyBase64(parseTelnyxPrivateKey({ value: secret, source: "test" }));
    const port = await unusedPort();
    const server = await startListener(
      example.createTelnyxHandler({ apiKey: "KEY_test", baseURL: `http://127.0.0.1:${port}/v2`, publicKey, log: () => {} }),
      example.WEBHOOK_PATH,
    );
    try {
      const result = await runInProcess(["simulate", fixture("scripts/telnyx-menu.json"), "--url", server.url, "--telnyx-api-port", String(port), "--json"], {
        env: { VWH_SECRET: secret },
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assert.match(result.stderr, new RegExp(`TELNYX_BASE_URL=http://127\\.0\\.0\\.1:${port}/v2`));
      const report = JSON.parse(result.stdout) as { scheme: string; notices: string[] };
      assert.equal(report.scheme, "telnyx");
      assert.ok(
        report.notices.some((line) => line.startsWith(`TELNYX_PUBLIC_KEY=${publicKey} `)),
        report.notices.join("\n"),
      );
    } finally {
      await server.close();
    }
  });
});
