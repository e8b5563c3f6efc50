/** Caller scripts run in process on an injected clock against a stub handler (the issue 23 verdict tests). */
import type { IncomingMessage, ServerResponse } from "node:http";
import { createDispatcher } from "../../src/transport/undici.js";
import { callFlowSchema, type LoadedFlow } from "../../src/files/call-flow.js";
import { loadPlatform, type PlatformId } from "../../src/platforms/registry.js";
import { getScheme } from "../../src/signing/index.js";
import { runSimulation } from "../../src/engine/run.js";
import { type SimulationOptions } from "../../src/engine/options.js";
import { type SimulationResult } from "../../src/engine/results.js";
import { fakeClock, startServer, type ReceivedRequest, type TestServer } from "../helpers.js";

const standardSecret = `whsec_${Buffer.from("verdicts-test-secret-0123456").toString("base64")}`;
export const secretFor = (platformId: PlatformId) =>
  platformId === "twilio" ? "f3a1c0ffee5eed0123456789abcdef01" : platformId === "vwh" ? standardSecret : "test-signing-secret-0123456789";

/** A caller script on `platformId`, validated as `vwh simulate` would. */
export async function scriptOn(platformId: PlatformId, script: unknown[], settings?: Record<string, unknown>): Promise<LoadedFlow> {
  const platform = await loadPlatform(platformId);
  const flow = callFlowSchema.parse({
    version: 1,
    platform: platformId,
    name: "verdicts",
    call: { from: "+15550100001", to: "+15550100300" },
    ...(settings && { settings }),
    script,
  });
  return { file: "verdicts.json", flow, platform };
}

/** Runs flows against `url` on a fake clock, signed with the platform's scheme. */
export async function runOn(flows: LoadedFlow[], url: string, extra: Partial<SimulationOptions> = {}): Promise<SimulationResult> {
  const platformId = flows[0]!.platform.id as PlatformId;
  const scheme = getScheme(flows[0]!.platform.scheme);
  const clock = fakeClock(Date.UTC(2026, 0, 5, 9));
  const dispatcher = createDispatcher(4);
  try {
    return await runSimulation(flows, {
      target: new URL(url),
      signer: scheme.create([{ value: secretFor(platformId), source: "(test)" }], { purpose: "sign" }),
      signatureHeaders: scheme.headers({ purpose: "sign" }),
      policy: { timeoutMs: 5000, retries: 0, backoffMs: 0, timeScale: 1 },
      faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
      budgetMs: 60_000,
      strictLatency: false,
      realtime: false,
      dispatcher,
      now: clock.now,
      wait: clock.wait,
      ...extra,
    });
  } finally {
    await dispatcher.close();
  }
}

/** A stub handler: `reply` picks each answer from the request. */
export function stubHandler(path: string, reply: (request: ReceivedRequest, response: ServerResponse, raw: IncomingMessage) => void): Promise<TestServer> {
  return startServer((request, response, raw) => reply(request, response, raw), path);
}

export const sendXml = (response: ServerResponse, body: string) =>
  void response.writeHead(200, { "content-type": "text/xml" }).end(`<?xml version="1.0" encoding="UTF-8"?><Response>${body}</Response>`);
export const sendJson = (response: ServerResponse, value: unknown, status = 200) =>
  void response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(value));

/** Every failure and warning of a run, as `where: message` lines. */
export function findingsOf(result: SimulationResult, kind: "failures" | "warnings" = "failures"): string[] {
  return result.flows.flatMap((flow) => [
    ...flow.events.flatMap((event) => event[kind].map((finding) => `${event.eventType}: ${finding.message}`)),
    ...(kind === "failures"
      ? (flow.turns ?? []).flatMap((turn) => turn.failures.map((finding) => `turn ${turn.step} ${finding.path ?? ""}: ${finding.message}`))
      : []),
  ]);
}
