/** Telnyx runs in process on an injected clock for the issue 23 verdict tests: the run's API and key, an acknowledge-then-act handler. */
import Telnyx from "telnyx";
import { createDispatcher } from "../../src/transport/undici.js";
import { callFlowSchema, type LoadedFlow } from "../../src/files/call-flow.js";
import type { CallControlApi } from "../../src/platforms/telnyx/api-server.js";
import { telnyxPlatform } from "../../src/platforms/telnyx/index.js";
import type { PlatformRun } from "../../src/platforms/types.js";
import { getScheme } from "../../src/signing/index.js";
import { parseTelnyxPrivateKey, rawPublicKeyBase64 } from "../../src/signing/telnyx.js";
import { type SimulationOptions } from "../../src/engine/options.js";
import { type SimulationResult } from "../../src/engine/results.js";
import { engineOptions } from "../engine-helpers.js";
import { fakeClock, json, newSecret, startServer, type FakeClock, type ReceivedRequest, type TestServer } from "../helpers.js";

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
  return {
    run,
    baseURL: api.baseUrl,
    publicKey: rawPublicKeyBase64(parseTelnyxPrivateKey(run.secrets[0]!)),
    clock: fakeClock(Date.UTC(2026, 0, 5, 9)),
    close: () => run.close(),
  };
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

export const telnyxEvent = (request: ReceivedRequest) =>
  JSON.parse(request.body.toString("utf8")) as { data: { event_type: string; occurred_at: string; payload: Record<string, unknown> } };

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
export async function ackThenAct(
  harness: TelnyxHarness,
  act: (client: Telnyx, type: string, id: string) => Promise<void>,
): Promise<TestServer & { errors: unknown[] }> {
  const client = new Telnyx({ apiKey: "KEY_test", baseURL: harness.baseURL, publicKey: harness.publicKey, maxRetries: 0 });
  const errors: unknown[] = [];
  const server = await startServer((request, response) => {
    json(response, 200, { received: true });
    const { data } = telnyxEvent(request);
    act(client, data.event_type, String(data.payload["call_control_id"])).catch((error: unknown) => errors.push(error));
  }, "/webhooks/telnyx");
  return Object.assign(server, { errors });
}

export const turnFailures = (result: SimulationResult) =>
  result.flows.flatMap((flow) => (flow.turns ?? []).flatMap((turn) => turn.failures.map((finding) => finding.message)));
