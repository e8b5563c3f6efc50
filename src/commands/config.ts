/**
 * `vwh config`: the effective settings and where each came from (flag, environment, file, the platform's
 * profile, default); secrets masked. The rows are the settings table's that a variable or the file can set.
 */
import { configFlows, resolveSettings, type SettingsInput } from "../cli/config.js";
import { parseOptions } from "../cli/parse-options.js";
import { configurableSettings, defaultOf, optionsSchema } from "../cli/settings.js";
import { redactSecrets } from "../core/secrets.js";
import { buildRetryPolicy } from "../engine/retry-policy.js";
import { defaultPlatformId, loadPlatform } from "../platforms/registry.js";
import { resolveSecrets } from "../signing/index.js";
import { createOutput, type Streams } from "../ui/output.js";

// The same validation `vwh simulate` applies, so a bad value in the file or environment shows here too.
const configOptionsSchema = optionsSchema("config");

type Shown = string | number | null;

export async function configCommand(input: SettingsInput, env: NodeJS.ProcessEnv = process.env, streams?: Streams): Promise<void> {
  const { options: settings, provenance, loaded } = await resolveSettings(input, env);
  const options = parseOptions(configOptionsSchema, settings, provenance);
  const output = createOutput(options, env, streams);
  // What simulate would use where nothing was set: the platform's scheme and profile, the profile's timeout and retries.
  const platform = await loadPlatform(options.platform ?? defaultPlatformId);
  const profile = options.profile ?? platform.profile;
  const policy = buildRetryPolicy({ profile });
  const byProfile = profile === undefined ? "default" : `profile ${profile}`;
  const fallbacks: Record<string, { value: Shown; source: string }> = {
    url: { value: null, source: "default" },
    platform: { value: platform.id, source: "default" },
    scheme: { value: platform.scheme, source: options.platform ? `platform ${platform.id}` : "default" },
    secretEnv: { value: "VWH_SECRET", source: "default" },
    budget: { value: defaultOf("budget"), source: "default" },
    timeout: { value: policy.timeoutMs, source: byProfile },
    retries: { value: policy.retries, source: byProfile },
    profile: { value: profile ?? null, source: options.profile === undefined && platform.profile !== undefined ? `platform ${platform.id}` : "default" },
  };
  const values = options as unknown as Record<string, unknown>;
  const rows = configurableSettings()
    .filter((row) => row.key in fallbacks)
    .map((row) => {
      const given = values[row.key];
      const fallback = fallbacks[row.key]!;
      const value: Shown = given === undefined ? fallback.value : given instanceof URL ? given.href : (given as string | number);
      const source = given === undefined ? fallback.source : (provenance[row.key] ?? "default");
      return { name: row.key, value: typeof value === "string" ? redactSecrets(value) : value, source };
    });
  const secrets = resolveSecrets(options.secret, env, options.secretEnv);
  // Only where the secret comes from and how many there are: never any part of it.
  const secretSource = redactSecrets(
    secrets.length ? (secrets[0]!.source.includes("--secret") ? "flag" : `env ${/\((\w+)\)/.exec(secrets[0]!.source)?.[1] ?? ""}`) : "-",
  );
  const flows = configFlows(loaded);
  if (output.json) {
    const report = {
      config_file: loaded?.file ?? null,
      settings: Object.fromEntries(rows.map((row) => [row.name, { value: row.value, source: row.source }])),
      secret: { set: secrets.length > 0, count: secrets.length, source: secretSource },
      flows,
    };
    output.out(JSON.stringify(report, null, 2));
    return;
  }
  const { colors } = output;
  output.out(`config file  ${loaded ? loaded.file : colors.dim("none (vwh init writes one)")}\n`);
  const secretRow = { name: "secret", value: secrets.length ? `${"*".repeat(8)} (${secrets.length} set)` : "not set", source: secretSource };
  for (const row of [...rows, secretRow]) output.out(`  ${row.name.padEnd(10)} ${String(row.value ?? "(none)").padEnd(44)} ${colors.dim(row.source)}`);
  if (flows.length) output.out(`\n  flows      ${flows.join("\n             ")}`);
}
