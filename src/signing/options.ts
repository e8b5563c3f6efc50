/**
 * The signing flags every command shares (--scheme, --secret, --hmac-*): their zod schema and the
 * step from validated flags to a ready signer.
 */
import { getScheme, requireSecrets, resolveSecrets, type SchemeSettings, type SecretInput, type SignatureScheme, type Signer } from "./index.js";
import type { HmacSettings } from "./types.js";

/**
 * The signing settings every command shares, validated (their flags, variables and config keys are rows of
 * the settings table, src/cli/settings.ts). `scheme` undefined: the platform's own.
 */
export interface SigningOptions {
  secret?: string[] | undefined;
  secretEnv?: string | undefined;
  scheme?: string | undefined;
  hmacHeader: string;
  hmacAlgorithm: HmacSettings["algorithm"];
  hmacTemplate: string;
  hmacTimestampHeader: string;
  hmacIdHeader: string;
  hmacEncoding: HmacSettings["encoding"];
  hmacPrefix: string;
}

export const signingKeys = [
  "secret",
  "secretEnv",
  "scheme",
  "hmacHeader",
  "hmacAlgorithm",
  "hmacTemplate",
  "hmacTimestampHeader",
  "hmacIdHeader",
  "hmacEncoding",
  "hmacPrefix",
] as const satisfies readonly (keyof SigningOptions)[];

/** The signing settings out of a command's options (for worker threads, which make their own signer). */
export function pickSigningOptions(options: SigningOptions): SigningOptions {
  return Object.fromEntries(signingKeys.map((key) => [key, options[key]])) as unknown as SigningOptions;
}

export function schemeSettings(options: SigningOptions, purpose: SchemeSettings["purpose"]): SchemeSettings {
  return {
    purpose,
    hmac: {
      header: options.hmacHeader,
      algorithm: options.hmacAlgorithm,
      template: options.hmacTemplate,
      timestampHeader: options.hmacTimestampHeader,
      idHeader: options.hmacIdHeader,
      encoding: options.hmacEncoding,
      prefix: options.hmacPrefix,
    },
  };
}

export interface ResolvedSigning {
  scheme: SignatureScheme;
  settings: SchemeSettings;
  signer: Signer;
}

/**
 * Scheme + secrets (flags or VWH_SECRET, else `fallback`: a key a platform generated for the run) → a
 * signer; every problem is a one-line usage error.
 */
export function resolveSigning(
  options: SigningOptions & { scheme: string },
  env: NodeJS.ProcessEnv,
  purpose: SchemeSettings["purpose"],
  fallback: readonly SecretInput[] = [],
): ResolvedSigning {
  const scheme = getScheme(options.scheme);
  const given = resolveSecrets(options.secret, env, options.secretEnv);
  const secrets = given.length > 0 ? given : [...fallback];
  requireSecrets(secrets, options.secretEnv);
  const settings = schemeSettings(options, purpose);
  return { scheme, settings, signer: scheme.create(secrets, settings) };
}

/** Where the secret came from, as the user named it: `--secret`, `$NAME` (--secret-env) or `VWH_SECRET`. */
export function secretSource(options: Pick<SigningOptions, "secret" | "secretEnv">): string {
  return options.secret?.length ? "--secret" : options.secretEnv ? `$${options.secretEnv}` : "VWH_SECRET";
}

export function secretFlagWarning(options: SigningOptions): string | undefined {
  return options.secret?.length ? "--secret is visible in the process list and shell history; prefer VWH_SECRET" : undefined;
}
