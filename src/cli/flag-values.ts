/** Zod schemas for values as flags give them (strings): numbers within bounds, http(s) URLs. */
import * as z from "zod";

/** A whole number given as a flag string, within bounds. */
export function integerFlag(what: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {}) {
  return z.string().regex(/^\d+$/, `expected a whole number of ${what}`).transform(Number).pipe(z.number().min(min).max(max));
}

/** A decimal number given as a flag string, within bounds. */
export function numberFlag(
  what: string,
  { min = 0, max = Number.MAX_VALUE, exclusiveMin = false }: { min?: number; max?: number; exclusiveMin?: boolean } = {},
) {
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
