/**
 * Grammar overrides (issue 24, "accept what each platform accepts"): a reply the platform accepts never
 * fails. The grammars are extracted from the official SDKs' types, and SDK types are not the wire
 * contract; where the platform's API reference or its official samples accept more than the SDK types
 * say, the value is accepted. Every such deviation is one row of src/platforms/<id>/overrides.json —
 * the field, the type the platform accepts, and the source that shows it (a documentation URL or
 * `github:owner/repo path` of an official sample) — applied on top of the generated grammar.json,
 * which is never edited by hand. Sources rank: API reference, official samples, then SDK types.
 */
import { readFileSync } from "node:fs";
import * as z from "zod";

/** A documentation URL, or an official sample or SDK file as `github:owner/repo path/in/repo`. */
export const overrideSourceSchema = z
  .string()
  .regex(/^(https:\/\/[^\s]+|github:[\w.-]+\/[\w.-]+ [^\s]+)$/, "expected an https:// URL or github:owner/repo path");

export const overrideBasisSchema = z.enum(["api-reference", "official-sample", "sdk-type"]);

function overridesFileSchema<T extends z.ZodType>(accept: T) {
  return z.strictObject({
    $comment: z.string().optional(),
    overrides: z.array(
      z.strictObject({
        /** Where in the generated grammar (each platform's own path syntax, explained in its file's $comment). */
        field: z.string().min(1),
        /** The type the platform accepts, in the grammar's own vocabulary. */
        accept: accept,
        /** What shows the platform accepts it: the highest-ranking source first. */
        source: overrideSourceSchema,
        /** Further sources that agree (other languages' samples, other SDKs). */
        also: z.array(overrideSourceSchema).optional(),
        basis: overrideBasisSchema,
        note: z.string().min(1),
      }),
    ),
  });
}

export type Override<T> = { field: string; accept: T; source: string; also?: string[] | undefined; basis: z.infer<typeof overrideBasisSchema>; note: string };

/**
 * The overrides of one platform, read once at start-up. The file ships with vwh; a malformed one is a bug
 * in vwh (a test loads every platform's), so it throws an ordinary Error naming the file.
 */
export function readOverrides<T>(file: URL, accept: z.ZodType<T>): Override<T>[] {
  const read = overridesFileSchema(accept).safeParse(JSON.parse(readFileSync(file, "utf8")));
  if (!read.success) throw new Error(`${file.pathname}: ${z.prettifyError(read.error)}`);
  return read.data.overrides as Override<T>[];
}
