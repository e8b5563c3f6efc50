/**
 * The programmatic API, what `import "vwh"` gives: simulate calls against a handler, sign and verify
 * webhooks, and the schemas of every file format. Unlike the CLI it never touches `process`: no argv,
 * no environment, no exit — secrets, clock and HTTP dispatcher are passed in.
 */
import type { Dispatcher } from "undici";
import { createDispatcher as createKeepAliveDispatcher } from "./transport/undici.js";
import { flowFromValue, type CallFlow, type LoadedFlow } from "./files/call-flow.js";
import { randomId } from "./core/ids.js";
import { loadFlows } from "./files/read-inputs.js";
import { isPlatformId, type PlatformId } from "./platforms/registry.js";
import { createRandom, newSeed } from "./core/random.js";
import { buildRetryPolicy } from "./engine/retry-policy.js";
import { resolveRunSigning } from "./engine/signing.js";
import { defaultOf } from "./cli/settings.js";
import { defaultHmacSettings } from "./signing/hmac.js";
import { getScheme, resolveSecrets } from "./signing/index.js";
import type { HmacSettings, SchemeSettings, SignedRequest, Signer, Verdict } from "./signing/types.js";
import type { CallResult } from "./engine/call-metrics.js";
import { createContext } from "./engine/context.js";
import { runFlowCall, runSimulation, withPlatformRuns } from "./engine/run.js";
import { summarize, type EventResult, type SimulationResult, type SimulationSummary } from "./engine/results.js";
import { type SimulationListener, type SimulationOptions } from "./engine/options.js";
import type { DeadLetter } from "./files/dead-letters.js";

export { callFlowSchema, recordingSchema } from "./files/call-flow.js";
export { instructionReplySchema, instructionSchema } from "./platforms/vwh/grammar.js";
export { envelopeSchema } from "./platforms/vwh/envelope.js";
export { configSchema } from "./cli/config-schema.js";
export { schemeNames } from "./signing/index.js";
export { type CallFlow, type LoadedFlow } from "./files/call-flow.js";
export { type EventResult, type FlowResult, type SimulationResult, type SimulationSummary, type TurnResult } from "./engine/results.js";
export { type SimulationListener } from "./engine/options.js";
export { callMetrics, type CallMetric, type CallResult } from "./engine/call-metrics.js";
export type { SignedRequest, Verdict } from "./signing/types.js";

/** sign() and verify() without a scheme, and a run without flows: the vwh platform's Standard Webhooks. */
const defaultSigningPlatform = { id: "vwh", scheme: "standard" } as const;

export interface SigningSettings {
  /** One secret, or several for key rotation (signs with each, accepts any). */
  secrets: readonly string[];
  /** A scheme for every flow (standard, stripe, hmac, twilio …); default: each flow's platform signs with its own, as the CLI does. */
  scheme?: string;
  /** Settings of the `hmac` scheme; the rest keep their defaults. */
  hmac?: Partial<HmacSettings>;
}

export interface SimulateOptions extends Partial<SigningSettings> {
  /** The handler's webhook URL. */
  url: string | URL;
  /** The URL the platform is configured with and signs (a tunnel's public URL); requests still go to url. */
  publicUrl?: string | URL;
  /** Caller scripts: a call over this many webhooks fails as a loop (default 50). */
  maxHops?: number;
  /** Platform-specific settings (statusCallback …); a script's own settings fill the rest. */
  platformSettings?: Readonly<Record<string, unknown>>;
  /** Replay recordings with their recorded signature headers (no secrets needed). */
  keepSignatures?: boolean;
  timeoutMs?: number;
  retries?: number;
  backoffMs?: number;
  /** A platform's retry policy (twilio, vonage, telnyx, retell, vapi, standard); explicit settings win. */
  profile?: string;
  timeScale?: number;
  budgetMs?: number;
  strictLatency?: boolean;
  /** A failed delivery of a webhook whose reply the platform ignores (a status callback) fails instead of warning. */
  strictEvents?: boolean;
  realtime?: boolean;
  duplicates?: number;
  reorder?: number;
  /** Seed of every random choice (default: a fresh one, returned in the result). */
  seed?: number;
  bail?: boolean;
  /** Keep each passing event's exchange (what was sent, what came back) too; failed events always carry it. */
  verbose?: boolean;
  deadLetter?: (entry: DeadLetter) => Promise<void>;
  /** An undici dispatcher (default: a keep-alive agent for the run, closed after it). */
  dispatcher?: Dispatcher;
  /** Wall clock in ms, and the wait between retries and realtime events: inject both for tests. */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
  listener?: SimulationListener;
}

function schemeSettings(settings: Partial<SigningSettings>, purpose: SchemeSettings["purpose"]): SchemeSettings {
  return { purpose, hmac: { ...defaultHmacSettings, ...settings.hmac } };
}

function createSigner(settings: SigningSettings & { scheme: string }, purpose: SchemeSettings["purpose"]): Signer {
  const secrets = settings.secrets.map((value, index) => ({ value, source: `#${index + 1}` }));
  if (secrets.length === 0) throw new TypeError("no signing secret: pass secrets");
  return getScheme(settings.scheme).create(secrets, schemeSettings(settings, purpose));
}

/**
 * The engine's options from the API's flat settings (a default dispatcher is the caller's to close). With the
 * flows to run, each signs with its platform's scheme unless `scheme` is given — one resolution with the CLI's.
 */
export function createSimulationOptions(options: SimulateOptions, flows: readonly LoadedFlow[] = []): SimulationOptions {
  const keepSignatures = options.keepSignatures === true;
  const { signer, signatureHeaders, platformSigning } = resolveRunSigning(
    flows.map((loaded) => loaded.platform),
    flows[0]?.platform ?? defaultSigningPlatform,
    {
      chosenScheme: options.scheme,
      settings: schemeSettings(options, "sign"),
      keepSignatures,
      createSigner: (scheme) => createSigner({ ...options, scheme, secrets: options.secrets ?? [] }, "sign"),
    },
  );
  return {
    target: new URL(options.url),
    signer,
    signatureHeaders,
    ...(platformSigning && { platformSigning }),
    keepSignatures,
    policy: buildRetryPolicy(options),
    faults: { duplicates: options.duplicates ?? 0, reorderWindow: options.reorder ?? 0, seed: options.seed ?? newSeed(), bail: options.bail ?? false },
    budgetMs: options.budgetMs ?? defaultOf("budget"),
    strictLatency: options.strictLatency ?? false,
    strictEvents: options.strictEvents ?? false,
    realtime: options.realtime ?? false,
    dispatcher: options.dispatcher ?? createKeepAliveDispatcher(),
    ...(options.publicUrl !== undefined && { publicUrl: new URL(options.publicUrl) }),
    ...(options.maxHops !== undefined && { maxHops: options.maxHops }),
    ...(options.verbose !== undefined && { verbose: options.verbose }),
    ...(options.platformSettings && { platformSettings: options.platformSettings }),
    ...(options.deadLetter && { deadLetter: options.deadLetter }),
    ...(options.now && { now: options.now }),
    ...(options.wait && { wait: options.wait }),
    ...(options.listener && { listener: options.listener }),
  };
}

/** Flows given as objects are validated like files; `file` names them in results. */
async function toLoadedFlows(flows: readonly (string | CallFlow)[], platform: PlatformId = "vwh"): Promise<LoadedFlow[]> {
  const files = flows.filter((flow): flow is string => typeof flow === "string");
  const loadedFiles = await loadFlows(files, platform);
  return Promise.all(flows.map((flow, index) => (typeof flow === "string" ? loadedFiles.shift()! : flowFromValue(flow, `flows[${index}]`, platform))));
}

/** Replays each flow (a file path — call flow, recording or dead-letter file — or a call-flow object) to the handler and checks every reply. */
export async function simulate(flows: readonly (string | CallFlow)[], options: SimulateOptions): Promise<SimulationResult & { summary: SimulationSummary }> {
  const loaded = await toLoadedFlows(flows);
  const simulation = createSimulationOptions(options, loaded);
  try {
    const result = await runSimulation(loaded, simulation);
    return { ...result, summary: summarize(result) };
  } finally {
    if (!options.dispatcher) await simulation.dispatcher.close();
  }
}

export interface SignOptions extends SigningSettings {
  /** The webhook id (the `webhook-id` header of Standard Webhooks; simulate uses the event_id). */
  id: string;
  /** Unix seconds (default: now). */
  timestamp?: number;
  /** The URL being signed, for schemes that sign it (twilio, hmac {url}). */
  url?: string;
  method?: string;
  contentType?: string;
}

/** The headers a platform would send with this body (and the URL to send it to). */
export function sign(body: string | Buffer, options: SignOptions): SignedRequest {
  return createSigner({ ...options, scheme: options.scheme ?? defaultSigningPlatform.scheme }, "sign").sign({
    id: options.id,
    timestamp: options.timestamp ?? Math.floor(Date.now() / 1000),
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
    method: options.method ?? "POST",
    url: options.url ?? "",
    contentType: options.contentType ?? "application/json",
  });
}

export interface VerifyOptions extends SigningSettings {
  /** Unix seconds "now" (default: the current time). */
  now?: number;
  /** Accepted clock difference in seconds (default 300). */
  toleranceSeconds?: number;
}

export interface WebhookRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: string | Buffer;
  method?: string;
  url?: string;
}

/** Checks a received webhook's signature exactly as `vwh verify-signature` does. */
export function verify(request: WebhookRequest, options: VerifyOptions): Verdict {
  const headers = Object.fromEntries(Object.entries(request.headers).map(([name, value]) => [name.toLowerCase(), value]));
  return createSigner({ ...options, scheme: options.scheme ?? defaultSigningPlatform.scheme }, "verify").verify(
    { headers, body: Buffer.isBuffer(request.body) ? request.body : Buffer.from(request.body), method: request.method ?? "POST", url: request.url ?? "" },
    { now: options.now ?? Math.floor(Date.now() / 1000), toleranceSeconds: options.toleranceSeconds ?? 300 },
  );
}

/**
 * Validates call flows (file paths or objects) once, for running many calls of them with
 * `simulateCall`. `platform` is the default for flows that do not name their own (default vwh).
 */
export async function loadCallFlows(flows: readonly (string | CallFlow)[], options: { platform?: string } = {}): Promise<LoadedFlow[]> {
  const platform = options.platform ?? "vwh";
  if (!isPlatformId(platform)) throw new TypeError(`unknown platform ${JSON.stringify(platform)}`);
  return toLoadedFlows(flows, platform);
}

/**
 * Runs ONE call of a loaded flow against the handler — fresh call and event ids, so any number of
 * copies can run at once (load tests: issue 18) — and returns every webhook's result. Caller scripts
 * run reactively, as `simulate` runs them. Pass a `dispatcher` shared by the calls (`createDispatcher`).
 */
export async function simulateCall(flow: LoadedFlow, options: SimulateOptions): Promise<CallResult> {
  const simulation = createSimulationOptions(options, [flow]);
  try {
    // A platform with run-level resources (a local API the handler calls) opens them for this call.
    const { context, started, events, outcome } = await withPlatformRuns([flow], simulation, async (withRuns) => {
      const context = createContext(withRuns);
      const started = context.now();
      const events: EventResult[] = [];
      const outcome = await runFlowCall(
        flow,
        context,
        createRandom(withRuns.faults.seed),
        { callId: randomId("call"), freshIds: true },
        { onEvent: (result) => events.push(result) },
      );
      return { context, started, events, outcome };
    });
    return {
      file: flow.file,
      name: flow.flow.name,
      platform: flow.platform.id,
      callId: outcome.callId,
      events,
      turns: outcome.turns,
      passed: outcome.passed,
      unreachable: outcome.stopped?.reason === "unreachable" ? outcome.stopped.message : undefined,
      durationMs: context.now() - started,
    };
  } finally {
    if (!options.dispatcher) await simulation.dispatcher.close();
  }
}

/** A keep-alive HTTP connection pool for many calls (at most `connections` sockets per origin, default 64). */
export function createDispatcher(options: { connections?: number } = {}): Dispatcher {
  return createKeepAliveDispatcher(options.connections);
}

/**
 * The signing secrets in an environment, as the CLI reads them: the variable `variable` names (when
 * set there), else `VWH_SECRET`; space-separated for rotation, PEM keys split on blank lines. Pass
 * the environment in (Node's environment object, or Artillery's `context.vars.$env`): the API never
 * reads it by itself.
 */
export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>, variable?: string): string[] {
  return resolveSecrets(undefined, env, variable).map((secret) => secret.value);
}
