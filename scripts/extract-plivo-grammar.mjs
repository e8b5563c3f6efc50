#!/usr/bin/env node
/**
 * Extracts the Plivo XML grammar — every element, its valid attributes and which elements it may
 * contain — from the official `plivo` SDK's XML builder (lib/utils/plivoxml.js), by asking the builder
 * itself: each `Response.prototype.addX` method constructs its element, whose `valid_attributes` and
 * `nestables` are what plivo-node enforces. Writes src/platforms/plivo/grammar.json (a data file).
 * Run after upgrading plivo:  node scripts/extract-plivo-grammar.mjs
 * A test re-runs `extractPlivoGrammar()` and compares it with the committed data (staleness).
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
export const grammarFile = join(root, "src", "platforms", "plivo", "grammar.json");
const require = createRequire(join(root, "package.json"));

export function extractPlivoGrammar() {
  const packageJson = require.resolve("plivo/package.json");
  const version = JSON.parse(readFileSync(packageJson, "utf8")).version;
  const { Response } = require(join(dirname(packageJson), "dist", "utils", "plivoxml.js"));
  // A stand-in parent whose `add` hands back the element the builder constructed, unattached.
  const probe = Object.create(Response.prototype);
  probe.add = (element) => element;
  const elements = {};
  for (const method of Object.keys(Response.prototype)
    .filter((name) => /^add[A-Z]/.test(name))
    .sort()) {
    // Builders that check their arguments first (Stream wants a wss URL, MultiPartyCall a role) still
    // construct the element once those are plausible; addText writes text and constructs none.
    let element;
    for (const args of [
      ["", {}],
      ["wss://stream.invalid/", {}],
      ["", { role: "Agent" }],
    ]) {
      try {
        element = probe[method](...args);
        break;
      } catch {
        // try the next plausible arguments
      }
    }
    if (!element?.element) continue;
    elements[element.element] = { attributes: [...element.valid_attributes].sort(), children: [...element.nestables] };
  }
  const response = new Response();
  const sorted = Object.fromEntries(
    Object.keys(elements)
      .sort()
      .map((name) => [name, elements[name]]),
  );
  return {
    sdk: { name: "plivo", version },
    source: "dist/utils/plivoxml.js (valid_attributes, nestables of each Response.prototype.addX element)",
    root: { name: response.element, children: [...response.nestables] },
    elements: sorted,
  };
}

export const serialise = (grammar) => `${JSON.stringify(grammar, null, 1)}\n`;

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const grammar = extractPlivoGrammar();
  writeFileSync(grammarFile, serialise(grammar));
  console.log(`wrote ${grammarFile}: ${Object.keys(grammar.elements).length} Plivo XML elements from ${grammar.sdk.name}@${grammar.sdk.version}`);
}
