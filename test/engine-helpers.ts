/** Driving the simulation engine in process (no CLI): options against a local handler, a signer. */
import { createDispatcher } from "../src/transport/undici.js";
import { getScheme } from "../src/signing/index.js";
import { defaultHmacSettings } from "../src/signing/hmac.js";
import { type SimulationOptions } from "../src/engine/options.js";

export function standardSigner(secret: string) {
  return getScheme("standard").create([{ value: secret, source: "(test)" }], { purpose: "sign", hmac: defaultHmacSettings });
}

/** Options for `runSimulation` against `url`, signed with `secret`; close `dispatcher` when done. */
export function engineOptions(url: string, secret: string, overrides: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    target: new URL(url),
    signer: standardSigner(secret),
    signatureHeaders: ["webhook-id", "webhook-timestamp", "webhook-signature"],
    policy: { timeoutMs: 5000, retries: 0, backoffMs: 1, timeScale: 1 },
    faults: { duplicates: 0, reorderWindow: 0, seed: 1, bail: false },
    budgetMs: 60_000,
    strictLatency: false,
    realtime: false,
    dispatcher: createDispatcher(4),
    ...overrides,
  };
}
