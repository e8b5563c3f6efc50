/** `vwh simulate`: validates flags, loads every flow, runs the simulation, renders the report. */
import * as z from "zod";
import { configFlows, resolveSettings, type SettingsInput } from "../cli/config.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { createDispatcher } from "../transport/undici.js";
import { ExitCode, ExitError, InputError, UsageError } from "../core/errors.js";
import { loadFlows } from "../files/read-inputs.js";
import { appendDeadLetter } from "../files/dead-letters.js";
import { parseOptions } from "../cli/parse-options.js";
import { newSeed } from "../core/random.js";
import { buildRetryPolicy } from "../engine/retry-policy.js";
import { resolveSecrets } from "../signing/index.js";
import { pickSigningOptions, resolveSigning, schemeSettings, secretFlagWarning, secretSource } from "../signing/options.js";
import { getScheme } from "../signing/index.js";
import { signatureHint } from "../engine/auth-hint.js";
import { runProbe, urlCases } from "../engine/probe.js";
import { resolveRunSigning } from "../engine/signing.js";
import { optionsSchema, platformSettings as platformSettingRows } from "../cli/settings.js";
import { type LoadedFlow } from "../files/call-flow.js";
import { checkLoadFlags, simulateLoad } from "./simulate-load.js";
import { defaultPlatformId, loadPlatform, platformIds } from "../platforms/registry.js";
import { openPlatformRuns, runSimulation, type OpenedPlatformRuns } from "../engine/run.js";
import { type SimulationOptions } from "../engine/options.js";
import { toJUnitXml } from "../ui/junit.js";
import { createOutput, type Output, type Streams } from "../ui/output.js";
import { createPrettyListener, formatSummary, toJsonReport, type RunDescription } from "../ui/simulate-report.js";
import { shownUrl } from "../core/secrets.js";

export const simulateOptionsSchema = optionsSchema("simulate");
export type SimulateOptions = z.output<typeof simulateOptionsSchema>;

function deadLetterWriter(file: string) {
  return async (entry: Parameters<typeof appendDeadLetter>[1]) => {
    try {
      await appendDeadLetter(file, entry);
    } catch (error) {
      throw new InputError(`${file}: cannot write the dead-letter file: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  };
}

/**
 * Ctrl-C (SIGINT) stops the run instead of killing it, so the partial report and JUnit file get
 * written; a caller that passes its own `stop` signal (tests, the API) stops it that way instead.
 */
function interruptOnSigint(stop: AbortSignal | undefined): { stop: AbortSignal; release: () => void } {
  if (stop) return { stop, release: () => {} };
  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once("SIGINT", onSigint);
  return { stop: controller.signal, release: () => process.off("SIGINT", onSigint) };
}

export async function simulateCommand(
  files: string[],
  input: SettingsInput,
  env: NodeJS.ProcessEnv = process.env,
  streams?: Streams,
  stop?: AbortSignal,
): Promise<void> {
  const { options: settings, provenance, loaded } = await resolveSettings(input, env);
  const options = parseOptions(simulateOptionsSchema, settings, provenance);
  const output = createOutput(options, env, streams);
  const warning = secretFlagWarning(options);
  if (warning) output.warn(warning);

  // Everything the user gave is checked before the first byte is sent.
  const flowFiles = files.length ? files : configFlows(loaded);
  if (flowFiles.length === 0)
    throw new UsageError("no call flows: give flow files, or list them under flows in vwh.config.json", "vwh init writes a starter set");
  const flows = await loadFlows(flowFiles, options.platform ?? defaultPlatformId);
  if (options.url) await checkUrlScheme(options.url, flows);
  const allRecorded = flows.every((loaded) => loaded.flow.events?.every((event) => event.raw !== undefined) ?? false);
  if (options.keepSignatures && !allRecorded) {
    throw new UsageError("--keep-signatures replays recordings only: every event must be a recorded raw request");
  }
  if (options.compareReplies && !allRecorded) {
    throw new UsageError("--compare-replies compares with recorded replies: every event must be a recorded raw request (a vwh tunnel recording)");
  }
  checkLoadFlags(flows, options);
  // Platforms that serve something for the whole run (Telnyx's Call Control API) open it before any call.
  const platformSettings = {
    ...(options.statusCallback && { statusCallback: options.statusCallback.href }),
    ...Object.fromEntries(
      platformSettingRows().flatMap((row) =>
        options[row.key as keyof SimulateOptions] === undefined ? [] : [[row.key, options[row.key as keyof SimulateOptions]]],
      ),
    ),
  };
  const opened = await openPlatformRuns(flows, { settings: platformSettings, secrets: resolveSecrets(options.secret, env, options.secretEnv) });
  try {
    for (const notice of opened.notices) output.err(notice);
    await simulateWithRuns(flows, options, env, output, platformSettings, opened, stop);
  } finally {
    await opened.close();
  }
}

/** A ws(s) URL is for platforms with a socket protocol (Retell's custom LLM); the others take http(s). */
async function checkUrlScheme(url: URL, flows: readonly LoadedFlow[]): Promise<void> {
  const socket = url.protocol === "ws:" || url.protocol === "wss:";
  const wrong = flows.find((loaded) => (socket ? loaded.platform.socket === undefined : false));
  if (!wrong) return;
  const taking = (await Promise.all(platformIds.map(loadPlatform))).filter((platform) => platform.socket !== undefined);
  throw new UsageError(
    `--url ${shownUrl(url)}: ${wrong.platform.id} (${wrong.file}) takes an http:// or https:// webhook URL; a ${url.protocol}// URL is for ${taking.map((platform) => `${platform.id} (${platform.socket})`).join(", ")}`,
    "give the handler's http(s) URL, or --platform with a socket protocol",
  );
}

async function simulateWithRuns(
  flows: LoadedFlow[],
  options: SimulateOptions,
  env: NodeJS.ProcessEnv,
  output: Output,
  platformSettings: Readonly<Record<string, unknown>>,
  opened: OpenedPlatformRuns,
  stop: AbortSignal | undefined,
): Promise<void> {
  // A platform brings its scheme and profile; flags, VWH_* variables and the config still win.
  // When every file names the same platform, that platform decides (a file's platform wins over --platform).
  const flowPlatforms = new Set(flows.map((flow) => flow.platform));
  const platform = flowPlatforms.size === 1 ? [...flowPlatforms][0]! : await loadPlatform(options.platform ?? defaultPlatformId);
  // Without a secret, a platform that made a key for the run (Telnyx) signs with it.
  const { signer, signatureHeaders, platformSigning, label } = resolveRunSigning(
    flows.map((flow) => flow.platform),
    platform,
    {
      chosenScheme: options.scheme,
      settings: schemeSettings(options, "sign"),
      keepSignatures: options.keepSignatures,
      // A socket URL (Retell's custom LLM): nothing to sign. Platforms that send no webhooks (vapi-llm) carry a
      // credential only when one is given (Vapi sends a custom-llm credential's key only when one is set).
      unsigned:
        options.url?.protocol === "ws:" ||
        options.url?.protocol === "wss:" ||
        (flows.every((loaded) => Object.keys(loaded.platform.events).length === 0) && resolveSecrets(options.secret, env, options.secretEnv).length === 0),
      createSigner: (scheme, platformId) => resolveSigning({ ...options, scheme }, env, "sign", opened.runs[platformId]?.secrets).signer,
    },
  );
  const platformProfiles = new Set(flows.map((flow) => flow.platform.profile));
  const profileName = options.profile ?? (platformProfiles.size === 1 ? flows[0]!.platform.profile : undefined);
  if (!options.url)
    throw new UsageError(
      "missing --url: the handler's webhook URL",
      "e.g. --url http://localhost:3000/webhooks/voice, or set VWH_URL, or url in vwh.config.json",
    );

  const policy = buildRetryPolicy({
    timeoutMs: options.timeout,
    retries: options.retries,
    backoffMs: options.backoff,
    profile: profileName,
    timeScale: options.timeScale,
  });
  const seed = options.seed ?? newSeed();
  // Choices a platform made that change what the handler receives (Vapi's tool-call shape), said once.
  const configuredUrl = options.publicUrl ?? options.url;
  const notes = [
    ...new Set(flows.flatMap((loaded) => loaded.platform.describeSettings?.({ ...loaded.flow.settings, ...platformSettings }, configuredUrl) ?? [])),
  ];
  const run: RunDescription = {
    target: shownUrl(options.url),
    scheme: label,
    budgetMs: options.budget,
    timeoutMs: policy.timeoutMs,
    retries: policy.retries,
    profile: profileName,
    seed,
    ...(notes.length > 0 && { notes }),
    ...(opened.notices.length > 0 && { notices: opened.notices }),
  };
  const simulation: SimulationOptions = {
    target: options.url,
    signer,
    signatureHeaders,
    ...(platformSigning && { platformSigning }),
    ...(options.publicUrl && { publicUrl: options.publicUrl }),
    maxHops: options.maxHops,
    platformSettings,
    platformRuns: opened.runs,
    keepSignatures: options.keepSignatures,
    compareReplies: options.compareReplies,
    verbose: options.verbose,
    policy,
    faults: { duplicates: options.duplicates, reorderWindow: options.reorder, seed, bail: options.bail },
    budgetMs: options.budget,
    strictLatency: options.strictLatency,
    strictEvents: options.strictEvents,
    realtime: options.realtime,
    dispatcher: createDispatcher(options.calls ? Math.max(options.concurrency, 1) : 64),
    ...(options.dlq && { deadLetter: deadLetterWriter(options.dlq) }),
  };
  if (options.calls !== undefined) {
    const { calls, concurrency, rate, pipelining, workers, warmup, junit } = options;
    const interrupt = interruptOnSigint(stop);
    try {
      return await simulateLoad(
        flows,
        simulation,
        run,
        { calls, concurrency, rate, pipelining, workers, warmup, junit, signing: pickSigningOptions(options), env },
        output,
        interrupt.stop,
      );
    } finally {
      interrupt.release();
    }
  }
  const interrupt = interruptOnSigint(stop);
  const result = await runSimulation(flows, {
    ...simulation,
    stop: interrupt.stop,
    ...(output.json ? {} : { listener: createPrettyListener(output.out, output.colors, run) }),
  }).finally(() => {
    interrupt.release();
    return simulation.dispatcher.close();
  });

  const failed = result.flows.some((flow) => !flow.passed);
  const exitCode = result.interrupted ? ExitCode.interrupted : result.unreachable ? ExitCode.unreachable : failed ? ExitCode.checkFailed : ExitCode.ok;
  const settings = schemeSettings(options, "sign");
  const hint = options.keepSignatures
    ? undefined
    : await signatureHint(result, {
        scheme: (platformId) => {
          const name = options.scheme ?? flows.find((loaded) => loaded.platform.id === platformId)?.platform.scheme ?? platform.scheme;
          return { name, signsUrl: getScheme(name).signsUrl?.(settings) ?? false };
        },
        target: options.url,
        publicUrl: options.publicUrl,
        secretSource: secretSource(options),
        probeUrl: async (platformId) => {
          const loaded = flows.find((candidate) => candidate.platform.id === platformId)!.platform;
          const {
            scheme,
            settings: probeSettings,
            signer: probeSigner,
          } = resolveSigning({ ...options, scheme: options.scheme ?? loaded.scheme }, env, "sign", opened.runs[platformId]?.secrets);
          const dispatcher = createDispatcher(1);
          const probe = {
            target: options.url!,
            ...(options.publicUrl && { publicUrl: options.publicUrl }),
            platform: loaded,
            scheme,
            settings: probeSettings,
            signer: probeSigner,
            toleranceSeconds: 300,
            timeoutMs: policy.timeoutMs,
            dispatcher,
          };
          return (await runProbe(probe, urlCases).finally(() => dispatcher.close())).cases;
        },
      });
  if (output.json) output.out(JSON.stringify({ ...toJsonReport(result, run, exitCode), hint: hint ?? null }, null, 2));
  else output.out(formatSummary(result, output.colors) + (hint ? `\n${output.colors.yellow(`hint: ${hint}`)}` : ""));
  if (options.junit) {
    try {
      await writeFileAtomic(options.junit, toJUnitXml(result));
    } catch (error) {
      throw new InputError(`${options.junit}: cannot write the JUnit report: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  if (exitCode !== ExitCode.ok) throw new ExitError(exitCode);
}
