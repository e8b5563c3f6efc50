/**
 * The settings table as commander sees it (flag, help, default, environment variable, commands), without its zod
 * schemas: program.ts builds every command's options from this, so `vwh --help` and argv parsing load no zod. The
 * rows are columns.json, generated from the table (scripts/write-cli-columns.mjs); test/unit/layout.test.ts fails when stale.
 */
import { readFileSync } from "node:fs";
import type { CommandName, Setting } from "./row.js";

export type CliColumns = Omit<Setting, "schema" | "config" | "platform">;

let rows: readonly CliColumns[] | undefined;

/** columns.json as generated (test/unit/layout.test.ts compares it with the table), read on first use. */
export function cliColumns(): readonly CliColumns[] {
  return (rows ??= JSON.parse(readFileSync(new URL("./columns.json", import.meta.url), "utf8")) as readonly CliColumns[]);
}

/** A command's rows, in table order (the program's own rows are not included). */
export function cliColumnsFor(command: CommandName): CliColumns[] {
  return cliColumns().filter((row) => (row.commands as readonly CommandName[]).includes(command));
}

export function helpOf(row: Pick<Setting, "help">, command: CommandName): string {
  return typeof row.help === "string" ? row.help : (row.help[command] ?? row.help.default);
}
