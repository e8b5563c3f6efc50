/**
 * `vwh tunnel <port>`: the inspecting proxy in front of the local handler, a public ngrok URL in front
 * of the proxy (unless --local), a live log, signature checks and recording. Runs until Ctrl-C or
 * SIGTERM, then closes everything and writes the recording.
 */
import { connect } from "node:net";
import * as z from "zod";
import { resolveSettings, type SettingsInput } from "../config.js";
import { ExitCode, UsageError, VwhError } from "../errors.js";
import { globalOptionsSchema, integerFlag, parseOptions } from "../options.js";
import { resolveSigning, secretFlagWarning, signingOptionsSchema } from "../signing-options.js";
import type { Signer } from "../signing/types.js";
import { startProxy } from "../tunnel/proxy.js";
import { openTunnel, type ForwardFunction, type TunnelListener } from "../tunnel/ngrok.js";
import { exists } from "../file-exists.js";
import { Recorder } from "../tunnel/recorder.js";
import { createOutput } from "../ui/output.js";
import { describeBody, formatRequestLine, toJsonLine, type RequestObservation } from "../ui/tunnel-log.js";

const sizeFlag = z
  .string()
  .regex(/^\d+(k|kb|kib|m|mb|mib)?$/i, "expected a size in bytes, or with a k/m suffix (e.g. 10m)")
  .transform((value) => {
    const [, digits, unit = ""] = /^(\d+)([a-z]*)$/i.exec(value)!;
    return Number(digits) * (unit.toLowerCase().startsWith("m") ? 1024 * 1024 : unit ? 1024 : 1);
  })
  .pipe(z.number().int().positive());

export const tunnelOptionsSchema = globalOptionsSchema.extend(signingOptionsSchema.shape).extend({
  path: z.string().startsWith("/", "expected a path starting with /").default("/"),
  domain: z.string().regex(/^[a-z0-9.-]+$/i, "expected a domain name like my-agent.ngrok.app").optional(),
  local: z.boolean().default(false),
  record: z.string().min(1).optional(),
  redactPii: z.boolean().default(false),
  maxBody: sizeFlag.default(10 * 1024 * 1024),
  timeout: integerFlag("milliseconds", { min: 1 }),
  proxyPort: integerFlag("a port", { max: 65535 }),
  tolerance: integerFlag("seconds"),
});

export interface TunnelDependencies {
  env?: NodeJS.ProcessEnv;
  /** The ngrok `forward` call (a fake in tests). */
  forward?: ForwardFunction;
  /** Stops the tunnel when aborted (tests); otherwise SIGINT/SIGTERM do. */
  stop?: AbortSignal;
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

function waitForStop(signal: AbortSignal | undefined): Promise<string> {
  return new Promise((resolve) => {
    const onSignal = (name: string) => () => {
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      resolve(name);
    };
    const onInt = onSignal("SIGINT");
    const onTerm = onSignal("SIGTERM");
    process.once("SIGINT", onInt);
    process.once("SIGTERM", onTerm);
    signal?.addEventListener("abort", onSignal("stop"), { once: true });
  });
}

export async function tunnelCommand(portArgument: string, input: SettingsInput, dependencies: TunnelDependencies = {}): Promise<void> {
  const env = dependencies.env ?? process.env;
  const port = Number(portArgument);
  if (!/^\d+$/.test(portArgument) || port < 1 || port > 65535) throw new UsageError(`<port>: expected a port number from 1 to 65535, got ${JSON.stringify(portArgument)}`);
  const { options: settings, provenance } = await resolveSettings(input, env);
  const options = parseOptions(tunnelOptionsSchema, settings, provenance);
  const output = createOutput(options, env);
  const warning = secretFlagWarning(options);
  if (warning) output.warn(warning);
  const hasSecret = (options.secret?.length ?? 0) > 0 || Boolean(env.VWH_SECRET) || Boolean(options.secretEnv && env[options.secretEnv]);
  const signer: Signer | undefined = hasSecret ? resolveSigning(options, env, "verify").signer : undefined;
  if (options.record && (await exists(options.record))) {
    throw new UsageError(`${options.record} already exists: record to a new file (vwh never overwrites a recording)`);
  }

  const recorder = options.record ? await Recorder.open(options.record, options.redactPii) : undefined;
  const upstream = new URL(`http://localhost:${port}`);
  let publicUrl: string | undefined;
  const log = (observation: RequestObservation) => output.out(output.json ? toJsonLine(observation) : formatRequestLine(observation, output.colors));

  const proxy = await startProxy(
    {
      upstream,
      maxBodyBytes: options.maxBody,
      upstreamTimeoutMs: options.timeout,
      onRequest: (request) =>
        recorder?.append({ ...request, url: publicUrl ? new URL(request.path, publicUrl).href : undefined }),
      onExchange: (exchange) => {
        const requestUrl = publicUrl ? new URL(exchange.path, publicUrl).href : `http://${exchange.headers.host ?? "localhost"}${exchange.path}`;
        const signature = signer?.verify(
          { headers: exchange.headers, body: exchange.body, method: exchange.method, url: requestUrl },
          { now: Math.floor(exchange.receivedAt.getTime() / 1000), toleranceSeconds: options.tolerance },
        );
        log({
          time: exchange.receivedAt,
          method: exchange.method,
          path: exchange.path,
          ...describeBody(exchange.body, exchange.headers["content-type"]),
          status: exchange.status,
          latencyMs: exchange.latencyMs,
          bytes: exchange.body.length,
          signature,
          proxyError: exchange.proxyError,
        });
      },
    },
    options.proxyPort,
  );

  let listener: TunnelListener | undefined;
  try {
    if (!options.local) {
      const opened = await openTunnel({ proxyPort: proxy.port, domain: options.domain, env, ...(dependencies.forward && { forward: dependencies.forward }) });
      listener = opened.listener;
      publicUrl = opened.url;
    }
  } catch (error) {
    await proxy.close();
    await recorder?.discardIfEmpty();
    throw error;
  }

  const base = publicUrl ?? proxy.url;
  const webhookUrl = new URL(options.path, base).href;
  const answers = await portAnswers(port);
  if (!answers) output.warn(`nothing answers on localhost:${port} yet: requests will get 502 until your handler starts`);
  if (output.json) {
    output.out(JSON.stringify({ event: "listening", public_url: publicUrl ?? null, proxy_url: proxy.url, webhook_url: webhookUrl, target: upstream.href, target_answers: answers, recording: options.record ?? null }));
  } else {
    const { colors } = output;
    output.out(`${colors.bold("vwh tunnel")}  ${publicUrl ? "public URL" : "local proxy (--local)"}: ${colors.cyan(base)}`);
    output.out(`  webhook URL   ${colors.bold(webhookUrl)}  ${colors.dim("← paste into the voice platform's dashboard")}`);
    output.out(`  forwarding to ${upstream.href}${publicUrl ? colors.dim(` (through ${proxy.url})`) : ""}`);
    if (signer) output.out(`  signatures    checked with the ${options.scheme} scheme`);
    if (options.record) output.out(`  recording to  ${options.record}${options.redactPii ? " (phone numbers and transcripts redacted)" : ""}`);
    output.out(colors.dim("  Ctrl-C to stop\n"));
  }

  await waitForStop(dependencies.stop);
  await listener?.close().catch(() => undefined);
  await proxy.close();
  if (recorder && options.record) {
    try {
      const count = await recorder.finish(`Recorded calls ${new Date().toISOString()}`);
      if (output.json) output.out(JSON.stringify({ event: "recorded", file: options.record, requests: count }));
      else output.err(`recorded ${count} request${count === 1 ? "" : "s"} to ${options.record}`);
    } catch (error) {
      throw new VwhError(`${options.record}: cannot write the recording (the journal ${options.record}.journal keeps every request): ${(error as Error).message}`, { exitCode: ExitCode.badInput });
    }
  }
}
