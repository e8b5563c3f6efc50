/** `vwh config`: the effective settings and where each came from (flag, environment, file, default); secrets masked. */
import { configFlows, resolveSettings, type SettingsInput } from "../cli/config.js";
import { redactSecrets } from "../core/secrets.js";
import { globalOptionsSchema, parseOptions } from "../cli/parse-options.js";
import { resolveSecrets } from "../signing/index.js";
import { createOutput, type Streams } from "../ui/output.js";
import { simulateOptionsSchema } from "./simulate.js";

const shown = { url: true, platform: true, scheme: true, secretEnv: true, budget: true, timeout: true, retries: true, profile: true, secret: true } as const;
const defaults = { url: null, platform: "vwh", scheme: "standard", secretEnv: "VWH_SECRET", budget: 200, timeout: 10_000, retries: 0, profile: null } as const;
// The same validation `vwh simulate` applies, so a bad value in the file or environment shows here too.
const configOptionsSchema = globalOptionsSchema.extend(simulateOptionsSchema.pick(shown).partial().shape);

export async function configCommand(input: SettingsInput, env: NodeJS.ProcessEnv = process.env, streams?: Streams): Promise<void> {
  const { options: settings, provenance, loaded } = await resolveSettings(input, env);
  const options = parseOptions(configOptionsSchema, settings, provenance);
  const output = createOutput(options, env, streams);
  // Typed values (numbers, null for unset) from the validated options; text is masked if it could be a secret.
  const typed = { ...options, url: options.url?.href };
  const rows = (Object.keys(defaults) as (keyof typeof defaults)[]).map((name) => {
    const value: string | number | null = typed[name] ?? defaults[name];
    return { name, value: typeof value === "string" ? redactSecrets(value) : value, source: provenance[name] ?? "default" };
  });
  const secrets = resolveSecrets(options.secret, env, options.secretEnv);
  // Only where the secret comes from and how many there are: never any part of it.
  const secretSource = redactSecrets(secrets.length ? (secrets[0]!.source.includes("--secret") ? "flag" : `env ${/\((\w+)\)/.exec(secrets[0]!.source)?.[1] ?? ""}`) : "-");
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
