/** In-process caller-script runs for the platform tests: runSimulation against a local handler, no spawn. */
import type { RequestListener } from "node:http";
import { loadFlow, flowFromValue, type LoadedFlow } from "../src/files/call-flow.js";
import { loadPlatform, type PlatformId } from "../src/platforms/registry.js";
import { createDispatcher } from "../src/transport/undici.js";
import { runProbe, type ProbeCaseResult } from "../src/engine/probe.js";
import { getScheme } from "../src/signing/index.js";
import { runSimulation } from "../src/engine/run.js";
import { type SimulationOptions } from "../src/engine/options.js";
import { type SimulationResult } from "../src/engine/results.js";
import { fixture, startListener } from "./helpers.js";

export interface LocalHandler {
  origin: string;
  close(): Promise<void>;
}

/** Serves a request listener on 127.0.0.1, port 0. */
export async function serve(listener: RequestListener): Promise<LocalHandler> {
  const server = await startListener(listener, "");
  return { origin: server.url, close: () => server.close() };
}

/** A flow object validated as `vwh simulate` would (schema, then the platform's own checks). */
export function loadFlowObject(value: unknown, platformId: PlatformId): Promise<LoadedFlow> {
  return flowFromValue(value, "test.json", platformId);
}

export function loadFixtureScript(name: string, platformId: PlatformId): Promise<LoadedFlow> {
  return loadFlow(fixture(`scripts/${name}`), platformId);
}

/** Runs flows against `url`, signed with the platform's own scheme. */
export async function runScripts(
  flows: readonly LoadedFlow[],
  url: string,
  secret: string,
  overrides: Partial<SimulationOptions> = {},
): Promise<SimulationResult> {
  const scheme = getScheme(flows[0]!.platform.scheme);
  // Like engine-helpers' engineOptions, signed with the platform's scheme instead of Standard Webhooks.
  const options: SimulationOptions = {
    target: new URL(url),
    signer: scheme.create([{ value: secret, source: "(test)" }], { purpose: "sign" }),
    signatureHeaders: scheme.headers({ purpose: "sign" }),
    policy: { timeoutMs: 5000, retries: 0, backoffMs: 1, timeScale: 1 },
    faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
    budgetMs: 60_000,
    strictLatency: false,
    realtime: false,
    dispatcher: createDispatcher(4),
    ...overrides,
  };
  try {
    return await runSimulation(flows, options);
  } finally {
    await options.dispatcher.close();
  }
}

/** Every failure of a run, as `path: message` lines (events, then turns). */
export function failuresOf(result: SimulationResult): string[] {
  return result.flows.flatMap((flow) => [
    ...flow.events.flatMap((event) => event.failures.map((finding) => `${event.eventType} ${finding.path ?? ""}: ${finding.message}`)),
    ...(flow.turns ?? []).flatMap((turn) => turn.failures.map((finding) => `turn ${turn.step} ${finding.path ?? ""}: ${finding.message}`)),
  ]);
}

/** `verify-signature --url` in-process: the probe cases a handler did not answer as expected, and how many it did. */
export async function probeHandler(url: string, platformId: PlatformId, secret: string): Promise<{ wrong: ProbeCaseResult[]; asExpected: number }> {
  const platform = await loadPlatform(platformId);
  const scheme = getScheme(platform.scheme);
  const dispatcher = createDispatcher(2);
  try {
    const report = await runProbe({
      target: new URL(url),
      platform,
      scheme,
      settings: { purpose: "sign" },
      signer: scheme.create([{ value: secret, source: "(test)" }], { purpose: "sign" }),
      toleranceSeconds: 300,
      timeoutMs: 5000,
      dispatcher,
    });
    return {
      wrong: report.cases.filter((result) => result.outcome !== "as-expected" && result.outcome !== "skipped"),
      asExpected: report.cases.filter((result) => result.outcome === "as-expected").length,
    };
  } finally {
    await dispatcher.close();
  }
}
