/** The registry of signature schemes selectable with --scheme, and where secrets come from. */
import { UsageError } from "../core/errors.js";
import { hmacScheme } from "./hmac.js";
import { plivoScheme } from "./plivo.js";
import { retellScheme } from "./retell.js";
import { bearerScheme, vapiSecretScheme } from "./shared-secret.js";
import { standardScheme } from "./standard.js";
import { stripeScheme } from "./stripe.js";
import { telnyxScheme } from "./telnyx.js";
import { twilioScheme } from "./twilio.js";
import { vonageScheme } from "./vonage.js";
import { schemeNames, type SchemeName } from "./scheme-names.js";
import type { SecretInput, SignatureScheme } from "./types.js";

export { schemeNames, type SchemeName } from "./scheme-names.js";

export const schemes: Readonly<Record<SchemeName, SignatureScheme>> = {
  standard: standardScheme,
  stripe: stripeScheme,
  hmac: hmacScheme,
  twilio: twilioScheme,
  telnyx: telnyxScheme,
  retell: retellScheme,
  vonage: vonageScheme,
  plivo: plivoScheme,
  vapi: vapiSecretScheme,
  bearer: bearerScheme,
};

export function getScheme(name: string): SignatureScheme {
  const scheme = (schemeNames as readonly string[]).includes(name) ? schemes[name as SchemeName] : undefined;
  if (!scheme) throw new UsageError(`--scheme: unknown scheme "${name}" (expected one of ${schemeNames.join(", ")})`);
  return scheme;
}

/**
 * Secrets from `--secret` (repeatable) or `VWH_SECRET` (space-separated, for rotation). Never echoed:
 * errors name them by source and position. PEM keys (Telnyx) keep their spaces: they are split on
 * the blank line between keys only.
 */
export function resolveSecrets(flagValues: readonly string[] | undefined, env: NodeJS.ProcessEnv, secretEnv?: string): SecretInput[] {
  if (flagValues && flagValues.length > 0) {
    return flagValues.map((value, index) => ({ value, source: flagValues.length > 1 ? `#${index + 1} (--secret)` : "(--secret)" }));
  }
  // The project's own variable (--secret-env or secret_env in vwh.config.json), else VWH_SECRET.
  const variable = secretEnv && env[secretEnv] ? secretEnv : "VWH_SECRET";
  const raw = env[variable] ?? "";
  const fromEnv = raw.includes("-----BEGIN")
    ? raw
        .split(/\n\s*\n/)
        .map((key) => key.trim())
        .filter(Boolean)
    : raw.split(/\s+/).filter(Boolean);
  return fromEnv.map((value, index) => ({ value, source: fromEnv.length > 1 ? `#${index + 1} (${variable})` : `(${variable})` }));
}

export function requireSecrets(secrets: readonly SecretInput[], secretEnv?: string): void {
  if (secrets.length === 0) {
    const variables = secretEnv && secretEnv !== "VWH_SECRET" ? `${secretEnv} or VWH_SECRET` : "VWH_SECRET";
    throw new UsageError(`no signing secret: pass --secret or set ${variables}`, "an environment variable keeps it out of the process list and shell history");
  }
}

export type { HmacSettings, ReceivedRequest, SchemeSettings, SecretInput, SignatureScheme, Signer } from "./types.js";
