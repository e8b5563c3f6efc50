/**
 * A row of the settings table (src/cli/settings.ts) and the value schemas rows share.
 */
import * as z from "zod";
import { maxTimerMs } from "../../core/limits.js";
import { schemeNames } from "../../signing/scheme-names.js";
import { integerFlag } from "../flag-values.js";

export const commandNames = ["vwh", "simulate", "sign", "verify-signature", "tunnel", "export artillery", "init", "config", "platforms", "schema"] as const;
/** `vwh` is the program itself: its settings (--json, --no-color, --debug) apply to every command. */
export type CommandName = (typeof commandNames)[number];

/** How a setting appears in vwh.config.json: its key (a dot for nesting) and the schema of the typed value there. */
export interface ConfigKey {
  key: string;
  schema: z.ZodType;
}

export interface Setting<K extends string = string, S extends z.ZodType = z.ZodType, C extends readonly CommandName[] = readonly CommandName[]> {
  /** The option's name in code (commander's attribute name): several rows may share it on different commands. */
  key: K;
  /** Commander's flag spec, e.g. `--budget <ms>`; `--no-x` for a flag that is on by default. */
  flag: string;
  /** Validates the value as the flag, variable or config file gives it (strings, as on the command line). */
  schema: S;
  /** The default as commander holds it (a string for value flags); parsed by `schema`, so it is written once. */
  default?: string;
  env?: string;
  config?: ConfigKey;
  commands: C;
  /** The help text; a command may word it its own way. */
  help: string | ({ default: string } & Partial<Record<CommandName, string>>);
  /** Repeatable: every occurrence is collected into a list. */
  repeatable?: true;
  choices?: readonly string[];
  /** Accepted but not listed in this command's help (it is refused with a clear message). */
  hiddenIn?: readonly CommandName[];
  /** A platform's own flag: `vwh simulate` hands it to that platform's calls as the setting `key`. */
  platform?: string;
}

export const setting = <const K extends string, S extends z.ZodType, const C extends readonly CommandName[]>(row: Setting<K, S, C>) => row;

export const signing = ["simulate", "sign", "verify-signature", "tunnel", "export artillery"] as const;
export const headerName = z
  .string()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, "expected an HTTP header name")
  .transform((name) => name.toLowerCase());
export const envVarPattern = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const milliseconds = integerFlag("milliseconds", { min: 1, max: maxTimerMs });
export const port = integerFlag("a port", { max: 65_535 });
export const schemeList = schemeNames.join(" | ");
export const sizeFlag = z
  .string()
  .regex(/^\d+(k|kb|kib|m|mb|mib)?$/i, "expected a size in bytes, or with a k/m suffix (e.g. 10m)")
  .transform((value) => {
    const [, digits, unit = ""] = /^(\d+)([a-z]*)$/i.exec(value)!;
    return Number(digits) * (unit.toLowerCase().startsWith("m") ? 1024 * 1024 : unit ? 1024 : 1);
  })
  .pipe(z.number().int().positive());
export const hmacConfig = (key: string, schema: z.ZodType): ConfigKey => ({ key: `hmac.${key}`, schema: schema.optional() });
