/** Teler's flow replies, extracted from @frejun/teler by scripts/extract-teler-grammar.mjs. */
import { readFileSync } from "node:fs";

export interface TelerGrammar {
  sdk: { name: string; version: string };
  /** By wire action name: the helper that builds it, its fields (SDK type text) and the helper's defaults. */
  actions: Record<string, { helper: string; fields: Record<string, string>; defaults: Record<string, unknown> }>;
  createCall: Record<string, string>;
}

export const grammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as TelerGrammar;
export const sdkLabel = `${grammar.sdk.name} ${grammar.sdk.version}`;
