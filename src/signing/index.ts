/** The registry of signature schemes selectable with --scheme, and where secrets come from. */
import { UsageError } from "../errors.js";
import { hmacScheme } from "./hmac.js";
import { retellScheme } from "./retell.js";
import { standardScheme } from "./standard.js";
import { stripeScheme } from "./stripe.js";
import { telnyxScheme } from "./telnyx.js";
import { twilioScheme } from "./twilio.js";
import type { SecretInput, SignatureScheme } from "./types.js";

export const schemes: Readonly<Record<string, SignatureScheme>> = {
  standard: standardScheme,
  stripe: stripeScheme,
  hmac: hmacScheme,
  twilio: twilioScheme,
  telnyx: telnyxScheme,
  retell: retellScheme,
};

export const schemeNames = Object.keys(schemes);

export function getScheme(name: string): SignatureScheme {
  const scheme = schemes[name];
  if (!scheme) throw new UsageError(`--scheme: unknown scheme "${name}" (expected one of ${schemeNames.join(", ")})`);
  return scheme;
}

/**
 * Secrets from `--secret` (repeatable) or `VWH_SECRET` (space-separated, for rotation). Never echoed:
 * errors name them by source and position. PEM keys (Telnyx) keep their spaces: they are split on
 * the blank line between keys only.
 */
export function resolveSecrets(flagValues: readonly string[] | undefined, env: NodeJS.ProcessEnv): SecretInput[] {
  if (flagValues && flagValues.length > 0) {
    return flagValues.map((value, index) => ({ value, source: flagValues.length > 1 ? `#${index + 1} (--secret)` : "(--secret)" }));
  }
  const raw = env.VWH_SECRET ?? "";
  const fromEnv = raw.includes("-----BEGIN") ? raw.split(/\n\s*\n/).map((key) => key.trim()).filter(Boolean) : raw.split(/\s+/).filter(Boolean);
  return fromEnv.map((value, index) => ({ value, source: fromEnv.length > 1 ? `#${index + 1} (VWH_SECRET)` : "(VWH_SECRET)" }));
}

export function requireSecrets(secrets: readonly SecretInput[]): void {
  if (secrets.length === 0) {
    throw new UsageError("no signing secret: pass --secret or set VWH_SECRET", "VWH_SECRET keeps it out of the process list and shell history");
  }
}

export type { HmacSettings, ReceivedRequest, SchemeSettings, SecretInput, SignatureScheme, Signer } from "./types.js";
