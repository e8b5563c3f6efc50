/** `vwh sign`: the headers a platform would send with a body, or a ready curl command (never the secret). */
import { resolveSettings, type SettingsInput } from "../cli/config.js";
import { randomId } from "../core/ids.js";
import { defaultPlatformId, loadPlatform } from "../platforms/registry.js";
import type { Platform } from "../platforms/types.js";
import { readBodyInput } from "../files/body-input.js";
import { parseOptions } from "../cli/parse-options.js";
import { UsageError } from "../core/errors.js";
import { resolveSigning, secretFlagWarning } from "../signing/options.js";
import { optionsSchema } from "../cli/settings.js";
import { createOutput, type Streams } from "../ui/output.js";

export const signOptionsSchema = optionsSchema("sign");

/** The content type of the platform's first webhook, as it encodes it. */
function platformContentType(platform: Platform): string {
  const [eventType] = Object.keys(platform.events);
  if (eventType === undefined) return "application/json";
  const call = { callId: "call_sign", from: undefined, to: undefined, direction: undefined };
  return (
    platform.encode({ eventType, eventId: "evt_sign", sequence: 1, timestamp: new Date(0), payload: {}, call, url: new URL("https://example.invalid/") })
      .contentType ?? "application/json"
  );
}

/** POSIX single-quoting: safe for any header value or URL. */
export function shellQuote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export async function signCommand(file: string | undefined, input: SettingsInput, env: NodeJS.ProcessEnv = process.env, streams?: Streams): Promise<void> {
  const { options: settings, provenance } = await resolveSettings(input, env);
  const parsed = parseOptions(signOptionsSchema, settings, provenance);
  // The platform brings its scheme unless one was given, and says which field is the webhook's id.
  const platform = await loadPlatform(parsed.platform ?? defaultPlatformId);
  const withScheme = { ...parsed, scheme: parsed.scheme ?? platform.scheme };
  // The body's type is what the platform sends unless given (Twilio signs a form by its parameters).
  const contentType = parsed.contentType ?? platformContentType(platform);
  const options = { ...withScheme, contentType };
  const output = createOutput(options, env, streams);
  const warning = secretFlagWarning(options);
  if (warning) output.warn(warning);
  const { signer, scheme, settings: signing } = resolveSigning(options, env, "sign");
  // A signature over no URL verifies nowhere: a usage error, not a header to paste.
  if ((scheme.signsUrl?.(signing) ?? false) && options.requestUrl === undefined && options.curl === undefined) {
    throw new UsageError(`${scheme.name} signatures cover the request URL: give --request-url <the URL the platform posts to> (or --curl <url>)`);
  }
  const body = await readBodyInput(file, "body to sign", streams?.stdin);

  // The id the platform would give this body (a vwh envelope's event_id), so `sign` agrees with `simulate`.
  const identity = platform.identify({ method: "POST", path: "/", headers: { "content-type": options.contentType }, body });
  const id = options.id ?? identity.eventId ?? randomId("msg");
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const url = (options.requestUrl ?? options.curl)?.href ?? "";
  const signed = signer.sign({ id, timestamp, body, method: "POST", url, contentType: options.contentType });
  const headers = { "content-type": options.contentType, ...signed.headers };

  if (options.curl) {
    const target = options.requestUrl ? options.curl.href : signed.url || options.curl.href;
    // A file is referenced, not inlined, so the bytes sent are exactly the bytes signed.
    const data = file && file !== "-" ? `--data-binary ${shellQuote(`@${file}`)}` : `--data-binary ${shellQuote(body.toString("utf8"))}`;
    const lines = [`curl -sS -X POST ${shellQuote(target)}`, ...Object.entries(headers).map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`), data];
    if (output.json) output.out(JSON.stringify({ url: target, headers, curl: lines.join(" ") }, null, 2));
    else output.out(lines.join(" \\\n  "));
    return;
  }
  if (output.json) output.out(JSON.stringify({ ...(url && { url: signed.url }), headers }, null, 2));
  else {
    // Schemes that sign the URL (Twilio) are checked against exactly this URL: show it with the headers.
    if (url) output.out(`# signed URL: ${signed.url}`);
    output.out(
      Object.entries(headers)
        .map(([name, value]) => `${name}: ${value}`)
        .join("\n"),
    );
  }
}
