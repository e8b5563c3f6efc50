/**
 * `vwh tunnel <port>`: the inspecting proxy in front of the local handler, a public ngrok URL in front
 * of the proxy (unless --local), a live log, the web inspector, signature checks and recording. Runs
 * until Ctrl-C or SIGTERM, then closes everything and writes the recording; a second Ctrl-C during
 * that is ignored, so the recording is always written. `--recover <journal>` turns the journal a
 * killed tunnel left into its recording.
 */
import { connect } from "node:net";
import * as z from "zod";
import { resolveSettings, type SettingsInput } from "../cli/config.js";
import { ExitCode, UsageError, VwhError } from "../core/errors.js";
import { parseOptions } from "../cli/parse-options.js";
import { resolveSigning, schemeSettings, secretFlagWarning } from "../signing/options.js";
import { optionsSchema } from "../cli/settings.js";
import { getScheme, resolveSecrets } from "../signing/index.js";
import type { Signer } from "../signing/types.js";
import { startProxy } from "../tunnel/proxy.js";
import { openTunnel, type ForwardFunction, type TunnelListener } from "../tunnel/ngrok.js";
import { Recorder, recoverJournal, type WrittenRecording } from "../tunnel/recorder.js";
import { defaultRedactionFields, maskSecrets, maskSecretsInTarget, mergeRedactionFields, secretNeedles } from "../tunnel/redact.js";
import { TunnelSession, type SessionExchange } from "../tunnel/session.js";
import { createSignatureExplainer } from "../tunnel/signature-explain.js";
import { requestIdentifier } from "../tunnel/identify.js";
import { defaultPlatformId, loadPlatform, platformIds, type PlatformId } from "../platforms/registry.js";
import { createOutput, type Output, type Streams } from "../ui/output.js";
import { formatRequestLine, toJsonLine, type RequestObservation } from "../ui/tunnel-log.js";

export const tunnelOptionsSchema = optionsSchema("tunnel");

export interface TunnelDependencies {
  env?: NodeJS.ProcessEnv;
  /** The ngrok `forward` call (a fake in tests). */
  forward?: ForwardFunction;
  /** Stops the tunnel when aborted (tests); otherwise SIGINT/SIGTERM do. */
  stop?: AbortSignal;
  /** Where the log goes (tests); the process's streams otherwise. */
  streams?: Streams;
}

/** Whether something accepts connections on localhost:port (a warning, not a failure, if not). */
function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "localhost" });
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

/** Resolves at the first SIGINT/SIGTERM (or abort); later ones only call `again` until `release`. */
function waitForStop(signal: AbortSignal | undefined, again: () => void): { stopped: Promise<string>; release: () => void } {
  let first: ((name: string) => void) | undefined;
  const stopped = new Promise<string>((resolve) => (first = resolve));
  let fired = false;
  const onSignal = (name: string) => () => {
    if (fired) return again();
    fired = true;
    first!(name);
  };
  const onInt = onSignal("SIGINT");
  const onTerm = onSignal("SIGTERM");
  // Kept until the recording is written: a second Ctrl-C must not kill the process half way.
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  signal?.addEventListener("abort", onSignal("stop"), { once: true });
  return {
    stopped,
    release: () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
    },
  };
}

function reportRecording(output: Output, written: WrittenRecording, requested: string): void {
  if (output.json) {
    output.out(JSON.stringify({ event: "recorded", file: written.file ?? null, requests: written.requests, displaced: written.displaced }));
    return;
  }
  if (written.file === undefined) output.err(`no requests arrived: nothing recorded, ${requested} not written`);
  else {
    if (written.displaced) output.warn(`${requested} appeared while recording: the recording went to ${written.file} instead (nothing was overwritten)`);
    output.err(`recorded ${written.requests} request${written.requests === 1 ? "" : "s"} to ${written.file}`);
  }
}

function toObservation(exchange: SessionExchange, needles: readonly string[]): RequestObservation {
  return {
    time: exchange.receivedAt,
    method: exchange.request.method,
    path: maskSecretsInTarget(exchange.request.path, needles),
    eventType: exchange.identity.eventType,
    callId: exchange.identity.callId,
    sequence: exchange.identity.sequence,
    status: exchange.status,
    latencyMs: exchange.latencyMs,
    bytes: exchange.request.body.length,
    signature: exchange.signature,
    proxyError: exchange.proxyError && maskSecrets(exchange.proxyError, needles),
    reply: exchange.replySummary,
    replayOf: exchange.replay?.of,
  };
}

/** Re-signing replays needs a signing key; say why when there is none (no secret, a public key). */
function replaySigner(options: TunnelOptions, env: NodeJS.ProcessEnv, hasSecret: boolean): Signer | string {
  if (!hasSecret) return "no secret configured (--secret or VWH_SECRET)";
  try {
    return resolveSigning(options, env, "sign").signer;
  } catch (error) {
    return (error as Error).message;
  }
}

type TunnelOptions = Omit<z.output<typeof tunnelOptionsSchema>, "scheme"> & { scheme: string };
export async function tunnelCommand(portArgument: string | undefined, input: SettingsInput, dependencies: TunnelDependencies = {}): Promise<void> {
  const env = dependencies.env ?? process.env;
  const { options: settings, provenance } = await resolveSettings(input, env);
  const parsed = parseOptions(tunnelOptionsSchema, settings, provenance);
  // --platform: its scheme unless one was given, and its own fields to identify and redact requests.
  const platform = parsed.platform ? await loadPlatform(parsed.platform) : undefined;
  const options = { ...parsed, scheme: parsed.scheme ?? (platform ?? (await loadPlatform(defaultPlatformId))).scheme };
  const platforms = platform ? [platform] : await Promise.all(platformIds.map((id) => loadPlatform(id)));
  const identify = requestIdentifier(platforms);
  // Without --platform, --redact-pii masks every platform's personal fields (and the common ones).
  const fields = platform ? platform.redaction : mergeRedactionFields([defaultRedactionFields, ...platforms.map((each) => each.redaction)]);
  const output = createOutput(options, env, dependencies.streams);
  if (options.recover) {
    if (portArgument !== undefined) throw new UsageError("--recover takes a journal, not a <port>: vwh tunnel --recover calls.json.journal");
    const written = await recoverJournal(options.recover);
    reportRecording(output, written, options.recover.replace(/\.journal$/, ""));
    return;
  }
  if (portArgument === undefined) throw new UsageError("missing <port>: the local port your handler listens on", "e.g. vwh tunnel 3000");
  const port = Number(portArgument);
  if (!/^\d+$/.test(portArgument) || port < 1 || port > 65535)
    throw new UsageError(`<port>: expected a port number from 1 to 65535, got ${JSON.stringify(portArgument)}`);
  const warning = secretFlagWarning(options);
  if (warning) output.warn(warning);
  const secrets = resolveSecrets(options.secret, env, options.secretEnv).map((secret) => secret.value);
  const hasSecret = secrets.length > 0;
  const verifier: Signer | undefined = hasSecret ? resolveSigning(options, env, "verify").signer : undefined;
  const needles = secretNeedles(secrets);
  const signatureHeaders = getScheme(options.scheme).headers(schemeSettings(options, "verify"));

  const recorder = options.record
    ? await Recorder.open(options.record, {
        redactPii: options.redactPii,
        secretNeedles: needles,
        identify,
        fields,
        ...(platform && { platform: platform.id as PlatformId }),
      })
    : undefined;
  const upstream = new URL(`http://localhost:${port}`);
  let publicUrl: URL | undefined;
  let proxyUrl: URL | undefined;
  // Concatenated, never resolved: a target like //host/x must not name another host here either.
  const addressed = (path: string, headers: Readonly<Record<string, string>>) => {
    const origin = publicUrl?.origin ?? (headers.host ? `http://${headers.host}` : (proxyUrl?.origin ?? "http://localhost"));
    return `${origin}${path.startsWith("/") ? path : "/"}`;
  };
  const log = (observation: RequestObservation) => output.out(output.json ? toJsonLine(observation) : formatRequestLine(observation, output.colors));

  const journaled = new Map<number, Promise<number | undefined>>();
  const pending = new Set<Promise<unknown>>();
  let session: TunnelSession | undefined;
  const cleanups: (() => Promise<unknown>)[] = [async () => recorder?.discard()];
  const cleanUp = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
  };

  let proxy: Awaited<ReturnType<typeof startProxy>>;
  try {
    proxy = await startProxy(
      {
        upstream,
        maxBodyBytes: options.maxBody,
        upstreamTimeoutMs: options.timeout,
        onRequest: (request) => {
          if (!recorder) return;
          const appended = recorder.append({ ...request, url: publicUrl ? addressed(request.path, request.headers) : undefined }).catch(() => undefined);
          journaled.set(request.requestId, appended);
          return appended.then(() => undefined);
        },
        onExchange: async (exchange) => {
          const appended = journaled.get(exchange.requestId);
          journaled.delete(exchange.requestId);
          const reply = exchange.reply;
          if (recorder && appended && reply) {
            // Journaled before it is logged: a logged reply survives a crash.
            const journaling = appended.then((n) => (n === undefined ? undefined : recorder.appendResponse(n, reply, exchange.latencyMs)));
            pending.add(journaling);
            await journaling.finally(() => pending.delete(journaling));
          }
          session?.observe(exchange);
        },
      },
      options.proxyPort,
    );
  } catch (error) {
    await cleanUp();
    throw error;
  }
  proxyUrl = new URL(proxy.url);
  cleanups.push(() => proxy.close());
  const resigner = replaySigner(options, env, hasSecret);
  session = new TunnelSession({
    identify,
    verifier,
    resigner,
    ...(verifier && {
      explain: createSignatureExplainer({
        scheme: getScheme(options.scheme),
        settings: schemeSettings(options, "verify"),
        secrets,
        verifier,
        signer: typeof resigner === "string" ? undefined : resigner,
        toleranceSeconds: options.tolerance,
      }),
    }),
    signatureHeaders,
    toleranceSeconds: options.tolerance,
    requestUrl: addressed,
    forward: proxy.forward,
  });
  session.subscribe((exchange) => {
    log(toObservation(exchange, needles));
    if (exchange.replay?.forgery)
      output.warn(
        `replay #${exchange.id}: #${exchange.replay.of}'s signature was refused, yet re-signed with your secret the handler accepted it — vwh made a possible forgery valid`,
      );
  });

  let listener: TunnelListener | undefined;
  let inspectorUrl: string | undefined;
  try {
    if (options.inspect) {
      // Imported only here: `vwh --help` and --no-inspect never load the inspector.
      const { startInspector } = await import("../tunnel/inspector.js");
      const inspector = await startInspector({
        session,
        port: options.inspectPort,
        secretNeedles: needles,
        signatureHeaders,
        onNotice: (text) => output.warn(text),
        upstream: upstream.origin,
        signsUrl: getScheme(options.scheme).signsUrl?.(schemeSettings(options, "verify")) === true,
        maxBodyBytes: options.maxBody,
        // Export writes what --record would: the same redaction, masking and platform.
        exportPolicy: {
          redactPii: options.redactPii,
          secretNeedles: needles,
          identify,
          fields,
          ...(platform && { platform: platform.id as PlatformId }),
          url: (path, headers) => (publicUrl ? addressed(path, headers) : undefined),
        },
      });
      cleanups.push(() => inspector.close());
      inspectorUrl = inspector.url;
    }
    if (!options.local) {
      const opened = await openTunnel({ proxyPort: proxy.port, domain: options.domain, env, ...(dependencies.forward && { forward: dependencies.forward }) });
      listener = opened.listener;
      publicUrl = new URL(opened.url);
    }
  } catch (error) {
    await cleanUp();
    throw error;
  }

  const base = publicUrl?.href ?? proxy.url;
  const webhookUrl = new URL(options.path, base).href;
  const answers = await portAnswers(port);
  if (!answers) output.warn(`nothing answers on localhost:${port} yet: requests will get 502 until your handler starts`);
  // Ctrl-C is ours before the banner says we listen: a reader that stops us as soon as it sees the banner
  // (a script, a test) must not find the default handler, which kills the process without the recording.
  const stop = waitForStop(dependencies.stop, () => output.err(options.record ? "still writing the recording — one moment" : "stopping — one moment"));
  if (output.json) {
    output.out(
      JSON.stringify({
        event: "listening",
        public_url: publicUrl?.href.replace(/\/$/, "") ?? null,
        proxy_url: proxy.url,
        webhook_url: webhookUrl,
        inspector_url: inspectorUrl ?? null,
        target: upstream.href,
        target_answers: answers,
        recording: options.record ?? null,
      }),
    );
  } else {
    const { colors } = output;
    output.out(`${colors.bold("vwh tunnel")}  ${publicUrl ? "public URL" : "local proxy (--local)"}: ${colors.cyan(base.replace(/\/$/, ""))}`);
    const hint = publicUrl ? "← paste into the voice platform's dashboard" : "← for local tests only: a voice platform cannot reach 127.0.0.1";
    output.out(`  webhook URL   ${colors.bold(webhookUrl)}  ${colors.dim(hint)}`);
    output.out(`  forwarding to ${upstream.href}${publicUrl ? colors.dim(` (through ${proxy.url})`) : ""}`);
    if (verifier) output.out(`  signatures    checked with the ${options.scheme} scheme`);
    if (inspectorUrl) output.out(`  inspector     ${colors.cyan(inspectorUrl)}`);
    if (options.record) output.out(`  recording to  ${options.record}${options.redactPii ? " (phone numbers and transcripts redacted)" : ""}`);
    output.out(colors.dim("  Ctrl-C to stop\n"));
  }

  try {
    await stop.stopped;
    await listener?.close().catch(() => undefined);
    cleanups.shift(); // the recorder is finished below, not discarded
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    if (recorder && options.record) {
      // Requests and replies still being journaled finish first.
      await Promise.all([...journaled.values(), ...pending]);
      let written: WrittenRecording;
      try {
        written = await recorder.finish(`Recorded calls ${new Date().toISOString()}`);
      } catch (error) {
        const reason = error instanceof VwhError ? error.message : (error as Error).message;
        throw new VwhError(
          `cannot write the recording (the journal ${recorder.journalFile} keeps every request; vwh tunnel --recover ${recorder.journalFile}): ${reason}`,
          { exitCode: ExitCode.badInput },
        );
      }
      reportRecording(output, written, options.record);
    }
  } finally {
    stop.release();
  }
}
