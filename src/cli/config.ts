/**
 * Project settings: flags > environment > vwh.config.json (found by walking up from the working
 * directory) > defaults. One table says which flag, variable and config key each setting has, so
 * `vwh config` can show where every effective value came from. Secrets never live in the file: it names
 * the environment variable that holds them (secret_env).
 */
import { dirname, join, resolve } from "node:path";
import { configSchema, type VwhConfig } from "./config-schema.js";
import { readJsonFile } from "../files/json-file.js";
import { exists } from "../lib/file-exists.js";
import { rememberConfiguredSecrets } from "../core/secrets.js";

export const configFileName = "vwh.config.json";

export { configSchema, type VwhConfig } from "./config-schema.js";

/** A setting's flag (commander's camelCase name), environment variable and config key. */
interface SettingSource {
  option: string;
  env?: string;
  configKey?: string;
  read?: (config: VwhConfig) => string | undefined;
}

const fromConfig = (value: unknown) => (value === undefined ? undefined : String(value));

export const settingSources: readonly SettingSource[] = [
  { option: "url", env: "VWH_URL", configKey: "url", read: (config) => config.url },
  { option: "scheme", env: "VWH_SCHEME", configKey: "scheme", read: (config) => config.scheme },
  { option: "platform", env: "VWH_PLATFORM", configKey: "platform", read: (config) => config.platform },
  { option: "secretEnv", configKey: "secret_env", read: (config) => config.secret_env },
  { option: "budget", env: "VWH_BUDGET_MS", configKey: "budget_ms", read: (config) => fromConfig(config.budget_ms) },
  { option: "timeout", env: "VWH_TIMEOUT_MS", configKey: "timeout_ms", read: (config) => fromConfig(config.timeout_ms) },
  { option: "retries", env: "VWH_RETRIES", configKey: "retries", read: (config) => fromConfig(config.retries) },
  { option: "profile", env: "VWH_PROFILE", configKey: "profile", read: (config) => config.profile },
  { option: "hmacHeader", configKey: "hmac.header", read: (config) => config.hmac?.header },
  { option: "hmacAlgorithm", configKey: "hmac.algorithm", read: (config) => config.hmac?.algorithm },
  { option: "hmacTemplate", configKey: "hmac.template", read: (config) => config.hmac?.template },
  { option: "hmacTimestampHeader", configKey: "hmac.timestamp_header", read: (config) => config.hmac?.timestamp_header },
  { option: "hmacIdHeader", configKey: "hmac.id_header", read: (config) => config.hmac?.id_header },
  { option: "hmacEncoding", configKey: "hmac.encoding", read: (config) => config.hmac?.encoding },
  { option: "hmacPrefix", configKey: "hmac.prefix", read: (config) => config.hmac?.prefix },
];

export interface LoadedConfig {
  file: string;
  config: VwhConfig;
}

/** The nearest vwh.config.json at or above `cwd`. */
export async function findConfigFile(cwd: string): Promise<string | undefined> {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, configFileName);
    if (await exists(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

export interface SettingsInput {
  options: Record<string, unknown>;
  sources: OptionSources;
}

/** Loads the config (if any) and applies it and the environment under the flags. */
export async function resolveSettings(input: SettingsInput, env: NodeJS.ProcessEnv, cwd = process.cwd()) {
  // Remembered before anything can quote a value back (issue 12, item 5).
  rememberConfiguredSecrets(env, [input.options.secret].flat(), [input.options.secretEnv]);
  const loaded = await loadConfig(cwd, env);
  rememberConfiguredSecrets(env, [], [loaded?.config.secret_env]);
  return { ...applySettings(input.options, input.sources, env, loaded), loaded };
}

export async function loadConfig(cwd: string, env: NodeJS.ProcessEnv): Promise<LoadedConfig | undefined> {
  const file = env.VWH_CONFIG ?? (await findConfigFile(cwd));
  if (!file) return undefined;
  const { value } = await readJsonFile(file, configSchema, "config");
  return { file, config: value };
}

export type Provenance = "flag" | `env ${string}` | `config ${string}` | "default";

/** What commander says about where an option's value came from. */
export type OptionSources = Readonly<Record<string, string | undefined>>;

/**
 * Fills each setting not given as a flag from the environment, then the config file. Returns the raw
 * options (still strings, as flags are) and where each setting came from.
 */
export function applySettings(
  raw: Record<string, unknown>,
  sources: OptionSources,
  env: NodeJS.ProcessEnv,
  loaded: LoadedConfig | undefined,
): { options: Record<string, unknown>; provenance: Record<string, Provenance> } {
  const options = { ...raw };
  const provenance: Record<string, Provenance> = {};
  for (const setting of settingSources) {
    if (!(setting.option in sources)) continue; // not an option of this command
    if (sources[setting.option] === "cli") {
      provenance[setting.option] = "flag";
      continue;
    }
    const fromEnv = setting.env ? env[setting.env] : undefined;
    const fromFile = loaded && setting.read ? setting.read(loaded.config) : undefined;
    if (fromEnv !== undefined && fromEnv !== "") {
      options[setting.option] = fromEnv;
      provenance[setting.option] = `env ${setting.env!}`;
    } else if (fromFile !== undefined) {
      options[setting.option] = fromFile;
      provenance[setting.option] = `config ${setting.configKey!}`;
    } else provenance[setting.option] = "default";
  }
  return { options, provenance };
}

/** The config's flows, relative to the config file. */
export function configFlows(loaded: LoadedConfig | undefined): string[] {
  if (!loaded?.config.flows) return [];
  return loaded.config.flows.map((flow) => resolve(dirname(loaded.file), flow));
}
