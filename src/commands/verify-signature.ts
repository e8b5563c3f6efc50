/**
 * `vwh verify-signature`: one request offline, every request of a recording at its recorded time, or a
 * live endpoint probed with forgeries it must refuse.
 */
import type { ChalkInstance } from "chalk";
import * as z from "zod";
import { resolveSettings, type SettingsInput } from "../cli/config.js";
import { createDispatcher } from "../transport/undici.js";
import { ExitCode, ExitError, InputError, UsageError } from "../core/errors.js";
import { rawBody, type RawRequest } from "../files/raw-request.js";
import { recordingSchema } from "../files/call-flow.js";
import { readBodyInput, type StdinStream } from "../files/body-input.js";
import { readJsonFile } from "../files/json-file.js";
import { parseOptions } from "../cli/parse-options.js";
import { defaultPlatformId, loadPlatform } from "../platforms/registry.js";
import { runProbe, type ProbeCaseResult } from "../engine/probe.js";
import { probeSignatureHint } from "../engine/auth-hint.js";
import { resolveSigning, secretFlagWarning, secretSource } from "../signing/options.js";
import { optionsSchema } from "../cli/settings.js";
import { resolveSecrets } from "../signing/index.js";
import type { ReceivedRequest, Signer } from "../signing/types.js";
import type { Platform } from "../platforms/types.js";
import { createOutput, type Output, type Streams } from "../ui/output.js";
import { shownUrl } from "../core/secrets.js";
import { replayUrl } from "../engine/address.js";
import { terminalSafe } from "../ui/terminal-text.js";

export const verifyOptionsSchema = optionsSchema("verify-signature");
/** The options with the scheme settled: --scheme (or VWH_SCHEME, config), else the platform's own. */
type VerifyOptions = Omit<z.output<typeof verifyOptionsSchema>, "scheme"> & { scheme: string };

/** `-H "Name: value"` → lower-case name and trimmed value. */
export function parseHeaderFlag(header: string): [string, string] {
  const colon = header.indexOf(":");
  if (colon <= 0) throw new UsageError(`--header: expected "name: value", got ${JSON.stringify(header.length > 40 ? `${header.slice(0, 37)}...` : header)}`);
  return [header.slice(0, colon).trim().toLowerCase(), header.slice(colon + 1).trim()];
}

const headersFileSchema = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

async function offlineRequest(options: VerifyOptions, stdin: StdinStream | undefined): Promise<ReceivedRequest> {
  const headers: Record<string, string> = {};
  if (options.headersFile) {
    const { value } = await readJsonFile(options.headersFile, headersFileSchema, "headers file");
    for (const [name, text] of Object.entries(value)) headers[name.toLowerCase()] = text;
  }
  for (const header of options.header ?? []) {
    const [name, value] = parseHeaderFlag(header);
    headers[name] = value;
  }
  if (Object.keys(headers).length === 0) throw new UsageError('no headers to verify: give them with -H "name: value" or --headers-file');
  const body = await readBodyInput(options.body, "body", stdin);
  return { headers, body, method: options.method, url: options.requestUrl?.href ?? "" };
}

async function verifyOffline(options: VerifyOptions, signer: Signer, output: Output, stdin: StdinStream | undefined): Promise<void> {
  const request = await offlineRequest(options, stdin);
  const now = options.at ?? Math.floor(Date.now() / 1000);
  const verdict = signer.verify(request, { now, toleranceSeconds: options.tolerance });
  if (output.json) output.out(JSON.stringify({ scheme: options.scheme, valid: verdict.valid, reason: verdict.valid ? null : verdict.reason }));
  else output.out(verdict.valid ? output.colors.green("valid") : output.colors.red(`invalid: ${verdict.reason}`));
  if (!verdict.valid) throw new ExitError(ExitCode.checkFailed);
}

/**
 * The URL a recorded request was addressed to, for schemes that sign it: as recorded; else its path on
 * --public-url (the URL the platform is configured with; one with a path of its own wins, as in simulate);
 * else the host and protocol the proxy recorded. Undefined when none of these says it.
 */
function recordedUrl(raw: RawRequest, publicUrl: URL | undefined): string | undefined {
  if (raw.url) return raw.url;
  if (publicUrl) return replayUrl(publicUrl, raw.path).href;
  const host = raw.headers["x-forwarded-host"] ?? raw.headers.host;
  const protocol = raw.headers["x-forwarded-proto"];
  return host && protocol ? `${protocol}://${host}${raw.path}` : undefined;
}

async function verifyRecording(file: string, options: VerifyOptions, signer: Signer, signsUrl: boolean, output: Output): Promise<void> {
  const { value: recording } = await readJsonFile(file, recordingSchema, "recording");
  if (recording.events.length === 0) throw new InputError(`${file}: the recording holds no requests`);
  const results = recording.events.map((event, index) => {
    const { raw } = event;
    const url = recordedUrl(raw, options.publicUrl);
    if (url === undefined && signsUrl) {
      throw new UsageError(
        `${file}: events[${index}] does not say which URL it was sent to, which ${options.scheme} signatures cover`,
        "give --public-url <the URL the platform is configured with>",
      );
    }
    const request: ReceivedRequest = { headers: raw.headers, body: rawBody(raw), method: raw.method, url: url ?? "" };
    // Each request is checked at the moment it arrived, unless --at says otherwise.
    const now = options.at ?? Math.floor(Date.parse(raw.received_at) / 1000);
    const verdict = signer.verify(request, { now, toleranceSeconds: options.tolerance });
    let eventId = raw.headers["webhook-id"];
    try {
      eventId = (JSON.parse(request.body.toString("utf8")) as { event_id?: string }).event_id ?? eventId;
    } catch {
      // a body that is not JSON keeps the header's id
    }
    return {
      index,
      event_id: eventId ?? `events[${index}]`,
      event_type: event.event_type ?? null,
      received_at: raw.received_at,
      valid: verdict.valid,
      reason: verdict.valid ? null : verdict.reason,
    };
  });
  const invalidOnes = results.filter((result) => !result.valid);
  if (output.json) {
    output.out(JSON.stringify({ file, scheme: options.scheme, total: results.length, invalid: invalidOnes.length, results }, null, 2));
  } else {
    const { colors } = output;
    for (const result of results) {
      const mark = result.valid ? colors.green("✓") : colors.red("✗");
      // The id and type come from the recorded request: printed escaped (a forged one could hold control sequences).
      output.out(
        `  ${mark} ${terminalSafe(String(result.event_id))}${result.event_type ? colors.dim(`  ${terminalSafe(result.event_type)}`) : ""}${result.reason ? `  ${colors.red(terminalSafe(result.reason))}` : ""}`,
      );
    }
    output.out(
      `\n${results.length} recorded request${results.length === 1 ? "" : "s"}: ${colors.green(`${results.length - invalidOnes.length} valid`)}, ${invalidOnes.length ? colors.red(`${invalidOnes.length} invalid`) : "0 invalid"}`,
    );
  }
  if (invalidOnes.length) throw new ExitError(ExitCode.checkFailed);
}

function probeLine(result: ProbeCaseResult, colors: ChalkInstance): string {
  const mark = result.outcome === "as-expected" ? colors.green("✓") : result.outcome === "skipped" ? colors.dim("-") : colors.red("✗");
  const got = result.outcome === "skipped" ? colors.dim("skipped") : result.status === undefined ? colors.red("no reply") : String(result.status);
  const verdicts: Record<ProbeCaseResult["outcome"], string> = {
    "as-expected": "",
    skipped: "",
    "wrongly-accepted": colors.red("  accepted a request it must refuse"),
    "wrongly-refused": colors.red("  refused a valid request"),
    "no-reply": "",
  };
  const note = result.note ? colors.dim(`  ${result.note}`) : "";
  return `  ${mark} ${result.name.padEnd(46)} ${result.expect.padEnd(7)} ${got.padEnd(8)}${verdicts[result.outcome]}${note}`.trimEnd();
}

/**
 * `13 cases: 12 as expected, 1 accepted a forgery, 8 no reply within the time limit` — each way of being
 * wrong counted apart, as --json's outcomes are: an accepted forgery is a hole, no reply may be a slow handler.
 */
export function probeSummary(cases: readonly ProbeCaseResult[], colors: ChalkInstance): string {
  const count = (outcome: ProbeCaseResult["outcome"]) => cases.filter((result) => result.outcome === outcome).length;
  const ran = cases.length - count("skipped");
  const accepted = count("wrongly-accepted");
  const refused = count("wrongly-refused");
  const silent = count("no-reply");
  const parts = [colors.green(`${count("as-expected")} as expected`)];
  if (accepted) parts.push(colors.red(`${accepted} accepted a forgery`));
  if (refused) parts.push(colors.red(`${refused} refused a valid request`));
  if (silent) parts.push(colors.red(`${silent} no reply within the time limit`));
  if (parts.length === 1) parts.push("0 wrong");
  return `${ran} cases: ${parts.join(", ")}`;
}

async function probeEndpoint(target: URL, options: VerifyOptions, platform: Platform, env: NodeJS.ProcessEnv, output: Output): Promise<void> {
  // The probe speaks the platform's wire format, signed with the settled scheme. A platform that serves
  // something to the handler (Telnyx's Call Control API) serves it to the probe's calls too, so a handler
  // that answers the call it is sent passes the valid case (issue 24).
  const run = await platform.openRun?.({
    settings: { probe: true, ...(options.telnyxApiPort !== undefined && { telnyxApiPort: options.telnyxApiPort }) },
    secrets: resolveSecrets(options.secret, env, options.secretEnv),
  });
  let report: Awaited<ReturnType<typeof runProbe>>;
  let scheme: ReturnType<typeof resolveSigning>["scheme"];
  let settings: ReturnType<typeof resolveSigning>["settings"];
  const publicUrl = options.publicUrl;
  try {
    for (const notice of run?.notices ?? []) output.err(notice);
    const resolved = resolveSigning(options, env, "sign", run?.secrets);
    scheme = resolved.scheme;
    settings = resolved.settings;
    const dispatcher = createDispatcher(4);
    report = await runProbe({
      target,
      ...(publicUrl && { publicUrl }),
      platform,
      scheme,
      settings,
      signer: resolved.signer,
      toleranceSeconds: options.tolerance,
      timeoutMs: options.timeout,
      dispatcher,
    }).finally(() => dispatcher.close());
  } finally {
    await run?.close();
  }
  const wrong = report.cases.filter((result) => result.outcome !== "as-expected" && result.outcome !== "skipped");
  const exitCode = report.unreachable ? ExitCode.unreachable : wrong.length ? ExitCode.checkFailed : ExitCode.ok;
  const hint = probeSignatureHint(report.cases, platform.id, {
    scheme: { name: scheme.name, signsUrl: scheme.signsUrl?.(settings) ?? false },
    target,
    publicUrl,
    secretSource: secretSource(options),
  });
  if (output.json) {
    output.out(
      JSON.stringify(
        {
          target: shownUrl(target),
          platform: platform.id,
          scheme: scheme.name,
          passed: exitCode === ExitCode.ok,
          exit_code: exitCode,
          unreachable: report.unreachable ?? null,
          hint: hint ?? null,
          cases: report.cases,
        },
        null,
        2,
      ),
    );
  } else {
    const { colors } = output;
    const signedFor = publicUrl ? `, signed for ${publicUrl.href}` : "";
    output.out(
      colors.dim(
        `vwh verify-signature → ${shownUrl(target)}  (${platform.id} requests, ${scheme.name} signatures${signedFor}, tolerance ${options.tolerance} s)\n`,
      ),
    );
    output.out(colors.dim(`  ${"case".padEnd(48)} ${"expect".padEnd(7)} got`));
    for (const result of report.cases) output.out(probeLine(result, colors));
    if (report.unreachable) output.out(colors.red(`\ncould not reach the endpoint: ${report.unreachable}`));
    else {
      output.out(`\n${probeSummary(report.cases, colors)}`);
      if (hint) output.out(colors.yellow(`hint: ${hint}`));
    }
  }
  if (exitCode !== ExitCode.ok) throw new ExitError(exitCode);
}

export async function verifySignatureCommand(input: SettingsInput, env: NodeJS.ProcessEnv = process.env, streams?: Streams): Promise<void> {
  const { options: settings, provenance } = await resolveSettings(input, env);
  const parsed = parseOptions(verifyOptionsSchema, settings, provenance);
  const platform = await loadPlatform(parsed.platform ?? defaultPlatformId);
  const options: VerifyOptions = { ...parsed, scheme: parsed.scheme ?? platform.scheme };
  const output = createOutput(options, env, streams);
  const modes = [options.body !== undefined && "--body", options.recording !== undefined && "--recording", options.url !== undefined && "--url"].filter(
    Boolean,
  );
  if (modes.length !== 1) {
    throw new UsageError(
      modes.length === 0 ? "nothing to verify: give --body (with -H), --recording or --url" : `choose one of ${modes.join(", ")}: they are different checks`,
    );
  }
  const warning = secretFlagWarning(options);
  if (warning) output.warn(warning);
  if (options.url) return probeEndpoint(options.url, options, platform, env, output);
  const { signer, scheme, settings: schemeSettings } = resolveSigning(options, env, "verify");
  const signsUrl = scheme.signsUrl?.(schemeSettings) ?? false;
  if (options.recording) return verifyRecording(options.recording, options, signer, signsUrl, output);
  if (signsUrl && options.requestUrl === undefined) {
    throw new UsageError(`${scheme.name} signatures cover the request URL: give --request-url <the URL the request was sent to>`);
  }
  return verifyOffline(options, signer, output, streams?.stdin);
}
