/**
 * Teler's flow replies, extracted from @frejun/teler by scripts/extract-teler-grammar.mjs, with the sourced
 * overrides of overrides.json on top where Teler accepts more than the SDK's helpers send (issue 24).
 */
import { readFileSync } from "node:fs";
import * as z from "zod";
import { readOverrides, type Override } from "../shared/overrides.js";

export interface TelerGrammar {
  sdk: { name: string; version: string };
  /** By wire action name: the helper that builds it, its fields (SDK type text) and the helper's defaults. */
  actions: Record<string, { helper: string; fields: Record<string, string>; defaults: Record<string, unknown> }>;
  createCall: Record<string, string>;
}

/** grammar.json as extracted from the SDK. */
export const sdkGrammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as TelerGrammar;

export const telerOverrides: readonly Override<string>[] = readOverrides(new URL("./overrides.json", import.meta.url), z.string().min(1));

/** The grammar Teler accepts: the SDK's, each override applied on a copy. */
export function withOverrides(base: TelerGrammar, overrides: readonly Override<string>[]): TelerGrammar {
  const copy = structuredClone(base);
  for (const override of overrides) {
    const [action, field, ...rest] = override.field.split(".");
    const spec = action === undefined ? undefined : copy.actions[action];
    if (!spec || field === undefined || rest.length > 0)
      throw new Error(`src/platforms/teler/overrides.json: ${override.field} names no field of a Teler action`);
    spec.fields[field] = override.accept;
  }
  return copy;
}

export const grammar = withOverrides(sdkGrammar, telerOverrides);
export const sdkLabel = `${grammar.sdk.name} ${grammar.sdk.version}`;
