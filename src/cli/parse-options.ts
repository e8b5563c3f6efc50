/**
 * Validating commander's raw option values with zod: each problem becomes one line naming the flag
 * (`--timeout: expected a whole number, got "abc"`), exit 2.
 */
import * as z from "zod";
import { UsageError } from "../core/errors.js";
import { describeIssue } from "../lib/validation.js";
import { optionsSchema } from "./settings.js";

const kebab = (name: string) => name.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

export function parseOptions<S extends z.ZodType>(schema: S, raw: unknown, provenance: Readonly<Record<string, string>> = {}): z.output<S> {
  const result = schema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.length ? String(issue.path[0]) : "";
  const from = provenance[name] && provenance[name] !== "flag" && provenance[name] !== "default" ? ` (from ${provenance[name]})` : "";
  const flag = name ? `--${kebab(name)}${from}: ` : "";
  throw new UsageError(`${flag}${describeIssue(issue)}`);
}

export { httpUrlFlag, integerFlag, numberFlag } from "./flag-values.js";

/** --json, --no-color, --debug: the program's own settings, which every command takes. */
export const globalOptionsSchema = optionsSchema("vwh");
