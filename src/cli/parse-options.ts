/**
 * Validating commander's raw option values with zod: each problem becomes one line naming the flag
 * (`--timeout: expected a whole number, got "abc"`), exit 2.
 */
import * as z from "zod";
import { UsageError } from "../core/errors.js";
import { describeIssue } from "../lib/validation.js";

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

/** A whole number given as a flag string, within bounds. */
export function integerFlag(what: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) {
  return z
    .string()
    .regex(/^\d+$/, `expected a whole number of ${what}`)
    .transform(Number)
    .pipe(z.number().min(min).max(max));
}

/** A decimal number given as a flag string, within bounds. */
export function numberFlag(what: string, { min = 0, max = Number.MAX_VALUE, exclusiveMin = false }: { min?: number; max?: number; exclusiveMin?: boolean } = {}) {
  const bounded = exclusiveMin ? z.number().gt(min) : z.number().min(min);
  return z
    .string()
    .regex(/^\d+(\.\d+)?$|^\.\d+$/, `expected ${what}`)
    .transform(Number)
    .pipe(bounded.max(max));
}

export const httpUrlFlag = z
  .string()
  .refine((value) => URL.canParse(value) && /^https?:$/.test(new URL(value).protocol), {
    error: "expected an http:// or https:// URL",
  })
  .transform((value) => new URL(value));

/** --url of simulate: an http(s) webhook URL, or a ws(s) socket URL for platforms that connect to one (Retell's custom LLM). */
export const targetUrlFlag = z
  .string()
  .refine((value) => URL.canParse(value) && /^(https?|wss?):$/.test(new URL(value).protocol), {
    error: "expected an http://, https://, ws:// or wss:// URL",
  })
  .transform((value) => new URL(value));

export const globalOptionsSchema = z.object({
  json: z.boolean().default(false),
  color: z.boolean().default(true),
  debug: z.boolean().default(false),
});
