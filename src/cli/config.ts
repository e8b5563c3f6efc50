/**
 * Project settings: flags > environment > vwh.config.json (found by walking up from the working
 * directory) > defaults. The settings table (settings.ts) says which flag, variable and config key each
 * setting has, so `vwh config` can show where every effective value came from. Secrets never live in the file: it names
 * the environment variable that holds them (secret_env).
 */
import { dirname, join, resolve } from "node:path";
import { configSchema, type VwhConfig } from "./config-schema.js";
import { readJsonFile } from "../files/json-file.js";
import { exists } from "../lib/file-exists.js";
import { rememberConfiguredSecrets } from "../core/secrets.js";
import { settingsOf, type CommandName } from "./settings.js";

export const configFileName = "vwh.config.json";

export { configSchema, type VwhConfig } from "./config-schema.js";

/** The value at a dotted config key (`hmac.header`), as a flag would give it (a string). */
function configValue(config: VwhConfig, key: string): string | undefined {
  let value: unknown = config;
  for (const part of key.split(".")) value = value && typeof value === "object" ? (value as Record<string, unknown>)[part] : undefined;
  return value === undefined ? undefined : String(value);
}

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
  /** Which command's rows of the settings table apply. */
  command: CommandName;
  options: Record<string, unknown>;
  sources: OptionSources;
}

/** Loads the config (if any) and applies it and the environment under the flags. */
export async function resolveSettings(input: SettingsInput, env: NodeJS.ProcessEnv, cwd = process.cwd()) {
  // Remembered before anything can quote a value back (issue 12, item 5).
  rememberConfiguredSecrets(env, [input.options.secret].flat(), [input.options.secretEnv]);
  const loaded = await loadConfig(cwd, env);
  rememberConfiguredSecrets(env, [], [loaded?.config.secret_env]);
  return { ...applySettings(input.command, input.options, input.sources, env, loaded), loaded };
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
  command: CommandName,
  raw: Record<string, unknown>,
  sources: OptionSources,
  env: NodeJS.ProcessEnv,
  loaded: LoadedConfig | undefined,
): { options: Record<string, unknown>; provenance: Record<string, Provenance> } {
  const options = { ...raw };
  const provenance: Record<string, Provenance> = {};
  for (const setting of settingsOf(command)) {
    if (!(setting.key in sources)) continue; // not an option of this command
    if (sources[setting.key] === "cli") {
      provenance[setting.key] = "flag";
      continue;
    }
    const fromEnv = setting.env ? env[setting.env] : undefined;
    const fromFile = loaded && setting.config ? configValue(loaded.config, setting.config.key) : undefined;
    if (fromEnv !== undefined && fromEnv !== "") {
      options[setting.key] = fromEnv;
      provenance[setting.key] = `env ${setting.env!}`;
    } else if (fromFile !== undefined) {
      options[setting.key] = fromFile;
      provenance[setting.key] = `config ${setting.config!.key}`;
    } else provenance[setting.key] = "default";
  }
  return { options, provenance };
}

/** The config's flows, relative to the config file. */
export function configFlows(loaded: LoadedConfig | undefined): string[] {
  if (!loaded?.config.flows) return [];
  return loaded.config.flows.map((flow) => resolve(dirname(loaded.file), flow));
}
