#!/usr/bin/env node
/**
 * Extracts FreJun Teler's flow replies from @frejun/teler (dist/lib/flows.d.ts: the return types of
 * CallFlow.stream/play/hangup; dist/lib/flows.js: the action names and defaults the helpers fill in) and
 * the call-initiation payload (dist/types.d.ts CreateCallPayload) into src/platforms/teler/grammar.json.
 * Usage: node scripts/extract-teler-grammar.mjs
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const main = require.resolve("@frejun/teler");
const sdkRoot = main.slice(0, main.lastIndexOf("/dist/"));
export const outputFile = fileURLToPath(new URL("../src/platforms/teler/grammar.json", import.meta.url));

const read = (file) => readFileSync(join(sdkRoot, "dist", file), "utf8");

/** `{ a: string; b: number; }` → { a: "string", b: "number" } */
function objectType(text) {
  const fields = {};
  for (const match of text.matchAll(/(\w+): ([^;]+);/g)) fields[match[1]] = match[2].trim();
  return fields;
}

export function extractTelerGrammar() {
  const sdk = JSON.parse(readFileSync(join(sdkRoot, "package.json"), "utf8"));
  const declarations = read("lib/flows.d.ts");
  const implementation = read("lib/flows.js");
  const actions = {};
  for (const match of declarations.matchAll(/static (\w+)\([^)]*(?:\{[^}]*\})?[^)]*\): \{([^}]*)\};/g)) {
    const helper = match[1];
    const fields = objectType(match[2]);
    // The wire name of the action and the defaults, as the helper's body writes them.
    const body = new RegExp(`static ${helper}\\([^)]*\\) \\{([\\s\\S]*?)\\n    \\}`).exec(implementation)?.[1] ?? "";
    const name = /"?action"?: "([^"]+)"/.exec(body)?.[1];
    if (!name) throw new Error(`CallFlow.${helper}: no action name`);
    const defaults = {};
    for (const item of body.matchAll(/(\w+): options\.\w+ \|\| ("[^"]*"|\d+|true|false)/g)) defaults[item[1]] = JSON.parse(item[2]);
    delete fields.action;
    actions[name] = { helper: `CallFlow.${helper}`, fields, defaults };
  }
  const types = read("types.d.ts");
  const payload = /export interface CreateCallPayload \{([^}]*)\}/.exec(types)?.[1];
  if (!payload) throw new Error("CreateCallPayload not found");
  return {
    sdk: { name: sdk.name, version: sdk.version },
    source: "dist/lib/flows.d.ts + flows.js (CallFlow), dist/types.d.ts (CreateCallPayload)",
    actions,
    createCall: objectType(payload),
  };
}

export const serialise = (grammar) => `${JSON.stringify(grammar, null, 1)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(outputFile, serialise(extractTelerGrammar()));
  console.log(`wrote ${outputFile}`);
}
