/**
 * Every setting of vwh, declared once (issue 22): its flag, environment variable, vwh.config.json key,
 * default, zod schema, help text and the commands that take it. Commander's options (cli/program.ts),
 * each command's options schema, the config file's schema, `vwh config`'s rows and the API's defaults are
 * all generated from this table, so a new setting is one row. Plain data and zod: `vwh --help` loads no
 * command and no platform. Modelled on vitest's cli-config.ts. The rows live in settings/.
 */
import * as z from "zod";
import { commandsSettings } from "./settings/commands.js";
import type { CliColumns } from "./settings/columns.js";
import type { CommandName, Setting } from "./settings/row.js";
import { sharedSettings } from "./settings/shared.js";
import { simulateSettings } from "./settings/simulate.js";

export { commandNames, type CommandName, type ConfigKey, type Setting } from "./settings/row.js";

/** The table. Its order is the order of `--help` and of vwh.config.json's schema. */
export const settings = { ...sharedSettings, ...simulateSettings, ...commandsSettings } as const;

type Settings = typeof settings;
export type SettingId = keyof Settings;

/** The options schema's shape of one command: its rows and the program's, by option name. */
export type ShapeOf<C extends CommandName> = {
  [Id in SettingId as C extends Settings[Id]["commands"][number]
    ? Settings[Id]["key"]
    : "vwh" extends Settings[Id]["commands"][number]
      ? Settings[Id]["key"]
      : never]: Settings[Id]["schema"];
};

const rows = Object.values(settings) as readonly Setting[];

/** The rows of a command, in table order (the program's own rows are not included). */
export function settingsOf(command: CommandName): Setting[] {
  return rows.filter((row) => (row.commands as readonly CommandName[]).includes(command));
}

export { helpOf } from "./settings/columns.js";

/** What commander and `--help` need of a row (src/cli/settings/columns.ts): everything but the schemas. */
export function cliColumnsOf(row: Setting): CliColumns {
  const { schema: _schema, config: _config, platform: _platform, ...columns } = row;
  return columns;
}

/** The zod schema of a command's options (its rows and the program's), generated from the table. */
export function optionsSchema<C extends CommandName>(command: C): z.ZodObject<ShapeOf<C>> {
  // The default goes through the schema as a flag would (prefault), so callers that skip commander (tests, the API) get it too.
  const shape = Object.fromEntries(
    [...settingsOf("vwh"), ...(command === "vwh" ? [] : settingsOf(command))].map((row) => [
      row.key,
      row.default === undefined ? row.schema : row.schema.prefault(row.default),
    ]),
  );
  return z.object(shape) as unknown as z.ZodObject<ShapeOf<C>>;
}

/** A setting's default as the code uses it: the row's default parsed by its schema. */
export function defaultOf<Id extends SettingId>(id: Id): z.output<Settings[Id]["schema"]> {
  const row = settings[id] as Setting;
  return row.schema.parse(row.default) as z.output<Settings[Id]["schema"]>;
}

/** Rows that read an environment variable or a vwh.config.json key: what `vwh config` shows and the resolution fills. */
export function configurableSettings(): Setting[] {
  return rows.filter((row) => row.env !== undefined || row.config !== undefined);
}

/** The platforms' own flags (rows with `platform`), which `vwh simulate` hands to that platform's calls. */
export function platformSettings(): (Setting & { platform: string })[] {
  return rows.filter((row): row is Setting & { platform: string } => row.platform !== undefined);
}
