/**
 * The signing flags every command shares (--scheme, --secret, --hmac-*): their zod schema and the
 * step from validated flags to a ready signer.
 */
import * as z from "zod";
import { getScheme, requireSecrets, resolveSecrets, schemeNames, type SchemeSettings, type SecretInput, type SignatureScheme, type Signer } from "./index.js";
import { defaultHmacSettings, templatePlaceholders } from "./hmac.js";

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name").transform((name) => name.toLowerCase());

export const signingOptionsSchema = z.object({
  secret: z.array(z.string()).optional(),
  secretEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name").optional(),
  scheme: z.enum(schemeNames as [string, ...string[]]).default("standard"),
  hmacHeader: headerName.default(defaultHmacSettings.header),
  hmacAlgorithm: z.enum(["sha256", "sha512", "sha1"]).default(defaultHmacSettings.algorithm),
  hmacTemplate: z
    .string()
    .refine((template) => template.includes("{body}"), { error: "expected a template that includes {body}" })
    .refine((template) => [...template.matchAll(/\{(\w+)\}/g)].every(([, name]) => (templatePlaceholders as readonly string[]).includes(name!)), {
      error: `expected only the placeholders ${templatePlaceholders.map((name) => `{${name}}`).join(", ")}`,
    })
    .default(defaultHmacSettings.template),
  hmacTimestampHeader: headerName.default(defaultHmacSettings.timestampHeader),
  hmacIdHeader: headerName.default(defaultHmacSettings.idHeader),
  hmacEncoding: z.enum(["hex", "base64"]).default(defaultHmacSettings.encoding),
  hmacPrefix: z.string().default(defaultHmacSettings.prefix),
});
export type SigningOptions = z.output<typeof signingOptionsSchema>;

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
export function resolveSigning(options: SigningOptions, env: NodeJS.ProcessEnv, purpose: SchemeSettings["purpose"], fallback: readonly SecretInput[] = []): ResolvedSigning {
  const scheme = getScheme(options.scheme);
  const given = resolveSecrets(options.secret, env, options.secretEnv);
  const secrets = given.length > 0 ? given : [...fallback];
  requireSecrets(secrets, options.secretEnv);
  const settings = schemeSettings(options, purpose);
  return { scheme, settings, signer: scheme.create(secrets, settings) };
}

export function secretFlagWarning(options: SigningOptions): string | undefined {
  return options.secret?.length ? "--secret is visible in the process list and shell history; prefer VWH_SECRET" : undefined;
}
