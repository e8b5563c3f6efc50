/**
 * Trustworthy verdicts on Telnyx (issue 23): a handler that acknowledges a webhook first and commands a
 * moment later passes; one that never commands fails saying which it was and where commands go. In
 * process, on an injected clock: time moves only when vwh waits for commands.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Telnyx from "telnyx";
import { createDispatcher } from "../src/transport/undici.js";
import { callFlowSchema, type LoadedFlow } from "../src/files/call-flow.js";
import type { CallControlApi } from "../src/platforms/telnyx/api-server.js";
import { telnyxPlatform } from "../src/platforms/telnyx/index.js";
import type { PlatformRun } from "../src/platforms/types.js";
import { getScheme } from "../src/signing/index.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../src/signing/telnyx.js";
import { runSimulation } from "../src/engine/run.js";
import { type SimulationOptions } from "../src/engine/options.js";
import { type SimulationResult } from "../src/engine/results.js";
import { engineOptions } from "./engine-helpers.js";
import { fakeClock, json, newSecret, startServer, type FakeClock, type ReceivedRequest, type TestServer } from "./helpers.js";

export interface TelnyxHarness {
  run: PlatformRun;
  baseURL: string;
  publicKey: string;
  clock: FakeClock;
  close(): Promise<void>;
}

export async function openTelnyx(): Promise<TelnyxHarness> {
  const run = await telnyxPlatform.openRun({ settings: {}, secrets: [] });
  const api = run.settings["telnyxApi"] as CallControlApi;
  return { run, baseURL: api.baseUrl, publicKey: rawPublicKeyBase64(parseTelnyxPrivateKey(run.secrets[0]!)), clock: fakeClock(Date.UTC(2026, 0, 5, 9)), close: () => run.close() };
}

export function telnyxOptions(harness: TelnyxHarness, target: string, extra: Partial<SimulationOptions> = {}): SimulationOptions {
  return engineOptions(target, newSecret(), {
    signer: getScheme("telnyx").create(harness.run.secrets, { purpose: "sign" }),
    signatureHeaders: ["telnyx-signature-ed25519", "telnyx-timestamp"],
    dispatcher: createDispatcher(8),
    platformRuns: { telnyx: harness.run },
    now: harness.clock.now,
    wait: harness.clock.wait,
    ...extra,
  });
}

export function telnyxScript(script: unknown[], settings: Record<string, unknown> = { command_timeout_ms: 60_000 }): LoadedFlow {
  const flow = callFlowSchema.parse({ version: 1, platform: "telnyx", name: "test", call: { from: "+15550100001", to: "+15550100300" }, settings, script });
  return { file: "test.json", flow, platform: telnyxPlatform };
}

export const telnyxEvent = (request: ReceivedRequest) => JSON.parse(request.body.toString("utf8")) as { data: { event_type: string; occurred_at: string; payload: Record<string, unknown> } };

/** Yields to the event loop until vwh's clock has moved `ms` (vwh moves it while it waits for commands), or gives up. */
export async function platformTimePasses(clock: FakeClock, ms: number): Promise<boolean> {
  const until = clock.now() + ms;
  for (let turn = 0; turn < 20_000; turn++) {
    if (clock.now() >= until) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

/** A handler that answers every webhook 200 at once, then acts: `act` runs after the reply is sent. */
export async function ackThenAct(harness: TelnyxHarness, act: (client: Telnyx, type: string, id: string) => Promise<void>): Promise<TestServer & { errors: unknown[] }> {
  const client = new Telnyx({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, maxRetries: 0 });
  const errors: unknown[] = [];
  const server = await startServer((request, response) => {
    json(response, 200, { received: true });
    const { data } = telnyxEvent(request);
    act(client, data.event_type, String(data.payload["call_control_id"])).catch((error: unknown) => errors.push(error));
  }, "/webhooks/telnyx");
  return Object.assign(server, { errors });
}

export const turnFailures = (result: SimulationResult) => result.flows.flatMap((flow) => (flow.turns ?? []).flatMap((turn) => turn.failures.map((finding) => finding.message)));

describe("telnyx: acknowledge, then act (issue 23, item 3)", () => {
  it("a handler that answers the webhook 200 and sends answer 500 ms later passes", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async (client, type, id) => {
      if (type === "call.initiated") {
        assert.ok(await platformTimePasses(harness.clock, 500), "vwh stopped waiting for the answer command");
        await client.calls.actions.answer(id, {});
      }
      if (type === "call.answered") {
        await platformTimePasses(harness.clock, 100);
        await client.calls.actions.speak(id, { payload: "Hello there", voice: "female" });
      }
      if (type === "call.speak.ended") await client.calls.actions.hangup(id, {});
    });
    try {
      const result = await runSimulation([telnyxScript([{ expect: { says: "Hello there", ends: "handler_hangup" } }])], telnyxOptions(harness, server.url));
      assert.deepEqual(turnFailures(result), []);
      assert.equal(result.flows[0]!.passed, true);
      assert.deepEqual(server.errors, []);
      assert.deepEqual(server.requests.map((request) => telnyxEvent(request).data.event_type), ["call.initiated", "call.answered", "call.speak.started", "call.speak.ended", "call.hangup"]);
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("one that answers 200 and never commands fails: no command in N ms, and the API URL it should have used", async () => {
    const harness = await openTelnyx();
    const server = await ackThenAct(harness, async () => {});
    try {
      const result = await runSimulation([telnyxScript([{}], { command_timeout_ms: 1500 })], telnyxOptions(harness, server.url));
      assert.equal(result.flows[0]!.passed, false);
      const [message] = turnFailures(result);
      assert.match(message!, /never answered the call: it accepted the webhook \(2xx\) but sent no answer command within 1500 ms \(settings\.command_timeout_ms\)/);
      assert.ok(message!.includes(`no command reached vwh's Call Control API at all`) && message!.includes(`TELNYX_BASE_URL=${harness.baseURL}`), message);
      assert.equal(result.flows[0]!.turns![0]!.ended, "timeout");
    } finally {
      await server.close();
      await harness.close();
    }
  });

  it("one that refuses the webhook fails as 'no 2xx'", async () => {
    const harness = await openTelnyx();
    const server = await startServer((_request, response) => json(response, 503, { busy: true }), "/webhooks/telnyx");
    try {
      const result = await runSimulation([telnyxScript([{}])], telnyxOptions(harness, server.url));
      assert.ok(turnFailures(result).some((message) => /never answered the call: it did not accept the webhook \(no 2xx/.test(message)), turnFailures(result).join("\n"));
    } finally {
      await server.close();
      await harness.close();
    }
  });
});
