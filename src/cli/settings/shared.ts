/** The settings of the program and of running calls: handler URL, platform, signing, timing (rows of the settings table). */
import * as z from "zod";
import { maxTimerMs } from "../../core/limits.js";
import { profileNames } from "../../engine/retry-policy.js";
import { defaultPlatformId, platformIds } from "../../platforms/registry.js";
import { defaultHmacSettings, templatePlaceholders } from "../../signing/hmac.js";
import { schemeNames } from "../../signing/scheme-names.js";
import { httpUrlFlag, integerFlag, targetUrlFlag } from "../flag-values.js";
import { envVarPattern, hmacConfig, headerName, milliseconds, schemeList, setting, signing } from "./row.js";

export const sharedSettings = {
  json: setting({ key: "json", flag: "--json", schema: z.boolean().default(false), commands: ["vwh"], help: "machine-readable output only, on stdout" }),
  color: setting({ key: "color", flag: "--no-color", schema: z.boolean().default(true), commands: ["vwh"], help: "no colours (also NO_COLOR)" }),
  debug: setting({ key: "debug", flag: "--debug", schema: z.boolean().default(false), commands: ["vwh"], help: "show stack traces for unexpected errors" }),

  url: setting({
    key: "url",
    flag: "--url <url>",
    // ws(s): Retell's custom-LLM socket (simulate checks the platform takes one; export artillery refuses it).
    schema: targetUrlFlag.optional(),
    env: "VWH_URL",
    config: {
      key: "url",
      schema: z
        .url({ protocol: /^(https?|wss?)$/, error: "expected an http(s) or ws(s) URL" })
        .optional()
        .describe("the handler's webhook URL (ws(s): a custom-LLM socket)"),
    },
    commands: ["simulate", "export artillery", "config"],
    help: {
      default: "the handler's webhook URL (or VWH_URL, or url in vwh.config.json)",
      "export artillery": "the handler's webhook URL, the script's target (or VWH_URL, or url in vwh.config.json)",
      config: "the handler's webhook URL",
    },
  }),
  scheme: setting({
    key: "scheme",
    flag: "--scheme <scheme>",
    schema: z.enum(schemeNames).optional(),
    env: "VWH_SCHEME",
    config: { key: "scheme", schema: z.enum(schemeNames).optional() },
    commands: [...signing, "config"],
    help: `signature scheme: ${schemeList} (default: the platform's own, standard for vwh)`,
  }),
  platform: setting({
    key: "platform",
    flag: "--platform <id>",
    schema: z.enum(platformIds).optional(),
    env: "VWH_PLATFORM",
    config: { key: "platform", schema: z.enum(platformIds).optional().describe("the platform to play (a flow's own platform field wins)") },
    commands: ["simulate", "export artillery", "sign", "verify-signature", "tunnel", "init", "config"],
    help: {
      default: `the platform to play: ${platformIds.join(" | ")} (see vwh platforms; default ${defaultPlatformId}); a file's own platform wins`,
      sign: `the platform whose scheme and webhook id apply (see vwh platforms; default ${defaultPlatformId})`,
      "verify-signature": `probe: send the platform's own requests and default to its --scheme (default ${defaultPlatformId})`,
      tunnel: "identify and redact requests by this platform's fields, and check its scheme (see vwh platforms)",
      init: `write caller scripts and a config for this platform (see vwh platforms; default ${defaultPlatformId})`,
    },
  }),
  secretEnv: setting({
    key: "secretEnv",
    flag: "--secret-env <name>",
    schema: z.string().regex(envVarPattern, "expected an environment variable name").optional(),
    config: {
      key: "secret_env",
      schema: z
        .string()
        .regex(envVarPattern, "expected an environment variable name like VOICE_WEBHOOK_SECRET")
        .optional()
        .describe("the environment variable that holds the signing secret"),
    },
    commands: [...signing, "config"],
    help: "read the secret from this environment variable instead of VWH_SECRET",
  }),
  timeout: setting({
    key: "timeout",
    flag: "--timeout <ms>",
    schema: milliseconds.optional(),
    env: "VWH_TIMEOUT_MS",
    config: { key: "timeout_ms", schema: z.number().int().positive().max(maxTimerMs).optional() },
    commands: ["simulate", "export artillery", "config"],
    help: "abort a reply slower than this: a retryable failure (default: 10000, or the profile's)",
  }),
  budget: setting({
    key: "budget",
    flag: "--budget <ms>",
    schema: milliseconds,
    default: "200",
    env: "VWH_BUDGET_MS",
    config: { key: "budget_ms", schema: z.number().int().positive().max(maxTimerMs).optional() },
    commands: ["simulate", "export artillery", "config"],
    help: { default: "latency budget per reply; over it is a warning", "export artillery": "latency budget per reply; over it is counted in vwh.over_budget" },
  }),
  retries: setting({
    key: "retries",
    flag: "--retries <n>",
    schema: integerFlag("retries", { max: 100 }).optional(),
    env: "VWH_RETRIES",
    config: { key: "retries", schema: z.number().int().min(0).max(100).optional() },
    commands: ["simulate", "export artillery", "config"],
    help: "retry a failed delivery (connection error, timeout, 5xx, 408, 429) up to n times (default: 0, or the profile's)",
  }),
  profile: setting({
    key: "profile",
    flag: "--profile <platform>",
    schema: z.enum(profileNames as [string, ...string[]]).optional(),
    env: "VWH_PROFILE",
    config: { key: "profile", schema: z.enum(profileNames as [string, ...string[]]).optional() },
    commands: ["simulate", "export artillery", "config"],
    help: `a platform's timeout and retry policy: ${profileNames.join(" | ")}`,
  }),
  hmacHeader: setting({
    key: "hmacHeader",
    flag: "--hmac-header <name>",
    schema: headerName,
    default: defaultHmacSettings.header,
    config: hmacConfig("header", z.string()),
    commands: signing,
    help: "hmac: signature header",
  }),
  hmacAlgorithm: setting({
    key: "hmacAlgorithm",
    flag: "--hmac-algorithm <alg>",
    schema: z.enum(["sha256", "sha512", "sha1"]),
    default: defaultHmacSettings.algorithm,
    config: hmacConfig("algorithm", z.enum(["sha256", "sha512", "sha1"])),
    commands: signing,
    help: "hmac: sha256 | sha512 | sha1",
  }),
  hmacTemplate: setting({
    key: "hmacTemplate",
    flag: "--hmac-template <template>",
    schema: z
      .string()
      .refine((template) => template.includes("{body}"), { error: "expected a template that includes {body}" })
      .refine((template) => [...template.matchAll(/\{(\w+)\}/g)].every(([, name]) => (templatePlaceholders as readonly string[]).includes(name!)), {
        error: `expected only the placeholders ${templatePlaceholders.map((name) => `{${name}}`).join(", ")}`,
      }),
    default: defaultHmacSettings.template,
    config: hmacConfig("template", z.string()),
    commands: signing,
    help: "hmac: signed content from {timestamp} {body} {method} {url} {id}",
  }),
  hmacTimestampHeader: setting({
    key: "hmacTimestampHeader",
    flag: "--hmac-timestamp-header <name>",
    schema: headerName,
    default: defaultHmacSettings.timestampHeader,
    config: hmacConfig("timestamp_header", z.string()),
    commands: signing,
    help: "hmac: timestamp header",
  }),
  hmacIdHeader: setting({
    key: "hmacIdHeader",
    flag: "--hmac-id-header <name>",
    schema: headerName,
    default: defaultHmacSettings.idHeader,
    config: hmacConfig("id_header", z.string()),
    commands: signing,
    help: "hmac: id header (when the template has {id})",
  }),
  hmacEncoding: setting({
    key: "hmacEncoding",
    flag: "--hmac-encoding <encoding>",
    schema: z.enum(["hex", "base64"]),
    default: defaultHmacSettings.encoding,
    config: hmacConfig("encoding", z.enum(["hex", "base64"])),
    commands: signing,
    help: "hmac: hex | base64",
  }),
  hmacPrefix: setting({
    key: "hmacPrefix",
    flag: "--hmac-prefix <prefix>",
    schema: z.string(),
    default: defaultHmacSettings.prefix,
    config: hmacConfig("prefix", z.string()),
    commands: signing,
    help: "hmac: signature prefix, e.g. sha256=",
  }),
  secret: setting({
    key: "secret",
    flag: "--secret <secret>",
    schema: z.array(z.string()).optional(),
    repeatable: true,
    commands: [...signing, "config"],
    hiddenIn: ["export artillery"],
    help: { default: "signing secret, repeatable for key rotation (default: $VWH_SECRET, space-separated)", config: "signing secret (shown masked)" },
  }),

  publicUrl: setting({
    key: "publicUrl",
    flag: "--public-url <url>",
    schema: httpUrlFlag.optional(),
    commands: ["simulate", "verify-signature", "export artillery"],
    help: {
      default: "the URL the platform is configured with, which it signs (a tunnel's public URL); requests still go to --url",
      "verify-signature":
        "the URL the platform is configured with, which it signs (a tunnel's public URL): the probe's requests still go to --url; --recording checks each recorded path on it",
      "export artillery": "the URL the platform is configured with, which it signs; requests still go to the target",
    },
  }),
} as const;
