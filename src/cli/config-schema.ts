/**
 * The schema of vwh.config.json, generated from the settings table (every row with a config key): its own
 * module, so the programmatic API can export it without the settings resolution (which reads the working
 * directory).
 */
import * as z from "zod";
import { configurableSettings } from "./settings.js";

const noSecrets = "secrets do not belong in vwh.config.json: name the environment variable in secret_env";

/** Rows' config keys as a (one level) nested shape: `hmac.header` → { hmac: { header } }. */
function configShape(): Record<string, z.ZodType> {
  const shape: Record<string, z.ZodType> = {};
  const nested: Record<string, Record<string, z.ZodType>> = {};
  for (const row of configurableSettings()) {
    if (!row.config) continue;
    const [head, tail] = row.config.key.split(".") as [string, string | undefined];
    if (tail === undefined) shape[head] = row.config.schema;
    else (nested[head] ??= {})[tail] = row.config.schema;
  }
  for (const [head, fields] of Object.entries(nested)) shape[head] = z.strictObject(fields).optional();
  return shape;
}

const { url, scheme, platform, secret_env, budget_ms, timeout_ms, retries, profile, hmac } = configShape();
// The generated fields, typed for the code that reads the file (each is optional in it).
type Optional<T> = z.ZodOptional<z.ZodType<T>>;
const text = (schema: z.ZodType | undefined) => schema as Optional<string>;
const count = (schema: z.ZodType | undefined) => schema as Optional<number>;

export const configSchema = z
  .strictObject({
    $schema: z.string().optional(),
    // Named so that a secret put here gets a clear refusal rather than "unknown field".
    secret: z.never({ error: noSecrets }).optional(),
    secrets: z.never({ error: noSecrets }).optional(),
    // The order of the published schema (vwh schema config), kept as it was.
    url: text(url),
    scheme: text(scheme),
    platform: text(platform),
    secret_env: text(secret_env),
    flows: z.array(z.string().min(1)).min(1).optional().describe("call-flow files, relative to this file"),
    budget_ms: count(budget_ms),
    timeout_ms: count(timeout_ms),
    retries: count(retries),
    profile: text(profile),
    hmac: hmac as Optional<Partial<Record<"header" | "algorithm" | "template" | "timestamp_header" | "id_header" | "encoding" | "prefix", string>>>,
  })
  .meta({ title: "vwh config", description: "Project settings for vwh (flags and environment variables override them)." });

export type VwhConfig = z.infer<typeof configSchema>;
