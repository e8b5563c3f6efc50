/** The schema of vwh.config.json: its own module, so the programmatic API can export it without the settings resolution (which reads the working directory). */
import * as z from "zod";
import { maxTimerMs } from "../core/limits.js";
import { profileNames } from "../engine/retry-policy.js";
import { platformIds } from "../platforms/registry.js";
import { schemeNames } from "../signing/index.js";

const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "expected an environment variable name like VOICE_WEBHOOK_SECRET");

const noSecrets = "secrets do not belong in vwh.config.json: name the environment variable in secret_env";

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    // Named so that a secret put here gets a clear refusal rather than "unknown field".
    secret: z.never({ error: noSecrets }).optional(),
    secrets: z.never({ error: noSecrets }).optional(),
    url: z.url({ protocol: /^https?$/, error: "expected an http(s) URL" }).optional().describe("the handler's webhook URL"),
    scheme: z.enum(schemeNames as [string, ...string[]]).optional(),
    platform: z.enum(platformIds).optional().describe("the platform to play (a flow's own platform field wins)"),
    secret_env: envVarName.optional().describe("the environment variable that holds the signing secret"),
    flows: z.array(z.string().min(1)).min(1).optional().describe("call-flow files, relative to this file"),
    budget_ms: z.number().int().positive().max(maxTimerMs).optional(),
    timeout_ms: z.number().int().positive().max(maxTimerMs).optional(),
    retries: z.number().int().min(0).max(100).optional(),
    profile: z.enum(profileNames as [string, ...string[]]).optional(),
    hmac: z
      .strictObject({
        header: z.string().optional(),
        algorithm: z.enum(["sha256", "sha512", "sha1"]).optional(),
        template: z.string().optional(),
        timestamp_header: z.string().optional(),
        id_header: z.string().optional(),
        encoding: z.enum(["hex", "base64"]).optional(),
        prefix: z.string().optional(),
      })
      .optional(),
  })
  .meta({ title: "vwh config", description: "Project settings for vwh (flags and environment variables override them)." });
export type VwhConfig = z.infer<typeof configSchema>;
