#!/usr/bin/env node
/**
 * Extracts the TwiML voice grammar (verbs, nouns, attributes, attribute value types, nesting, text
 * content) from twilio-node's generated `VoiceResponse` into src/platforms/twilio/twiml-grammar.json.
 *
 * Two sources from the installed `twilio` package, so nothing is typed by hand:
 *  - nesting, element names and text arguments: the compiled lib/twiml/VoiceResponse.js, run — every
 *    builder method of every class is called on a recording element, which shows the element it creates
 *    and the class that element gets (so `Dial.number()` → `<Number>` of class Number);
 *  - attributes and their types: lib/twiml/VoiceResponse.d.ts, the generated declarations (each method's
 *    `attributes` interface, the interfaces' members, the string-literal unions they use).
 *
 * The declarations are regular generated code (yoyodyne); the reader below is strict: anything it does
 * not recognise stops the extraction rather than being skipped.
 *
 * Run: node scripts/extract-twilio-grammar.mjs          (writes the file)
 *      node scripts/extract-twilio-grammar.mjs --check  (exit 1 when the committed file is stale)
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";

const root = fileURLToPath(new URL("..", import.meta.url));
export const grammarFile = `${root}src/platforms/twilio/twiml-grammar.json`;

/** Methods every TwiML class inherits or adds that build no element. */
const notBuilders = new Set(["constructor", "comment", "commentAfter", "commentBefore", "toString", "addText", "addChild", "_getXml"]);

function readDeclarations(text) {
  const enums = {};
  for (const match of text.matchAll(/^\s*type (\w+) = (.+);$/gm)) {
    const members = match[2].split(" | ").map((member) => {
      const literal = /^"([^"]*)"$/.exec(member);
      if (!literal) throw new Error(`type ${match[1]}: not a union of string literals: ${member}`);
      return literal[1];
    });
    enums[match[1]] = members;
  }
  // Interfaces of the same name merge (TypeScript declaration merging): their members add up.
  const interfaces = {};
  for (const match of text.matchAll(/^\s*export interface (\w+) \{\n([\s\S]*?)\n\s*\}$/gm)) {
    const members = (interfaces[match[1]] ??= {});
    for (const line of match[2].split("\n")) {
      if (/^\s*\/\*\*.*\*\/\s*$/.test(line)) continue;
      const member = /^\s*("([^"]+)"|(\w+))\?: ([\w.]+)(\[\])?;$/.exec(line);
      if (!member) throw new Error(`interface ${match[1]}: cannot read member line ${JSON.stringify(line)}`);
      members[member[2] ?? member[3]] = { type: member[4], list: member[5] === "[]" };
    }
  }
  // Each class's builder methods: the attributes interface and whether the text argument is optional.
  const classes = {};
  const classPattern = /^(?:declare class (VoiceResponse)|\s*export class (\w+)) extends TwiML \{\n([\s\S]*?)\n\s*\}$/gm;
  for (const match of text.matchAll(classPattern)) {
    const methods = (classes[match[1] ?? match[2]] = {});
    for (const method of match[3].matchAll(/^\s*(\w+)\((.*)\): VoiceResponse\.(\w+);$/gm)) {
      const [, name, params] = method;
      const attributes = /^attributes(\?)?: (?:VoiceResponse\.(\w+)|(object))(?:, (\w+)(\?)?: string)?$/.exec(params);
      if (attributes) methods[name] = { attributes: attributes[2] ?? null, text: attributes[4] ? (attributes[5] ? "optional" : "required") : "none" };
      else if (!/^\w+\??: string$/.test(params)) throw new Error(`class ${match[1] ?? match[2]}: cannot read method ${name}(${params})`);
    }
  }
  return { enums, interfaces, classes };
}

/** Runs every builder method on a recording element: which element it makes, of which class. */
function readNesting(VoiceResponse) {
  const classes = { VoiceResponse };
  for (const [name, value] of Object.entries(VoiceResponse)) if (typeof value === "function" && value.prototype) classes[name] = value;
  const nesting = {};
  for (const [className, Class] of Object.entries(classes)) {
    const children = (nesting[className] = {});
    for (const method of Object.getOwnPropertyNames(Class.prototype)) {
      if (notBuilders.has(method)) continue;
      const made = [];
      const element = { ele: (name) => (made.push(name), element) };
      const instance = className === "VoiceResponse" ? Object.assign(new Class(), { response: element }) : new Class(element);
      const child = instance[method]({}, "text");
      if (made.length !== 1 || !child?.constructor?.name) throw new Error(`${className}.${method}() did not build exactly one element`);
      children[method] = { element: made[0], class: child.constructor.name };
    }
  }
  return nesting;
}

function typeOf(declared, enums, where) {
  if (declared.type === "string" || declared.type === "number" || declared.type === "boolean") {
    return { type: declared.type, ...(declared.list && { list: true }) };
  }
  if (!enums[declared.type]) throw new Error(`${where}: unknown type ${declared.type}`);
  return { type: "enum", enum: declared.type, ...(declared.list && { list: true }) };
}

export function extractGrammar() {
  const require = createRequire(import.meta.url);
  const packageJson = require("twilio/package.json");
  const declarationsPath = require.resolve("twilio/lib/twiml/VoiceResponse.d.ts");
  const { enums, interfaces, classes } = readDeclarations(readFileSync(declarationsPath, "utf8"));
  const nesting = readNesting(require("twilio/lib/twiml/VoiceResponse.js"));

  const elements = {};
  const usedEnums = new Set();
  for (const [className, children] of Object.entries(nesting)) {
    const entry = (elements[className] ??= { attributes: {}, anyAttributes: false, text: "none", children: {} });
    for (const [method, child] of Object.entries(children)) {
      const declared = classes[className]?.[method];
      if (!declared) throw new Error(`${className}.${method}: no declaration with an attributes parameter`);
      const childEntry = (elements[child.class] ??= { attributes: {}, anyAttributes: false, text: "none", children: {} });
      const known = entry.children[child.element];
      if (known && known !== child.class) throw new Error(`${className}: <${child.element}> made by two classes (${known}, ${child.class})`);
      entry.children[child.element] = child.class;
      if (declared.text !== "none" && childEntry.text !== "required") childEntry.text = declared.text;
      if (declared.attributes === null) {
        childEntry.anyAttributes = true;
        continue;
      }
      const members = interfaces[declared.attributes];
      if (!members) throw new Error(`${className}.${method}: unknown interface ${declared.attributes}`);
      for (const [attribute, type] of Object.entries(members)) {
        const value = typeOf(type, enums, `${declared.attributes}.${attribute}`);
        if (value.type === "enum") usedEnums.add(value.enum);
        childEntry.attributes[attribute] = value;
      }
    }
  }
  // Sorted, so a regeneration only differs where the SDK changed.
  const sortKeys = (object) => Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  for (const entry of Object.values(elements)) {
    entry.attributes = sortKeys(entry.attributes);
    entry.children = sortKeys(entry.children);
  }
  return {
    $comment: "Generated by scripts/extract-twilio-grammar.mjs from the twilio package's VoiceResponse; do not edit by hand.",
    source: { package: "twilio", version: packageJson.version, files: ["lib/twiml/VoiceResponse.js", "lib/twiml/VoiceResponse.d.ts"] },
    root: { element: "Response", class: "VoiceResponse" },
    elements: sortKeys(elements),
    enums: sortKeys(Object.fromEntries([...usedEnums].map((name) => [name, enums[name]]))),
  };
}

export function grammarText(grammar) {
  return `${JSON.stringify(grammar, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const grammar = extractGrammar();
  if (process.argv.includes("--check")) {
    const committed = JSON.parse(readFileSync(grammarFile, "utf8"));
    if (!isDeepStrictEqual(committed, grammar)) {
      console.error(
        `${grammarFile} is stale: run node scripts/extract-twilio-grammar.mjs (twilio ${grammar.source.version} installed, file from ${committed.source?.version})`,
      );
      process.exit(1);
    }
    console.log(`${grammarFile} matches twilio ${grammar.source.version}`);
  } else {
    writeFileSync(grammarFile, grammarText(grammar));
    console.log(`wrote ${grammarFile} from twilio ${grammar.source.version}: ${Object.keys(grammar.elements).length} elements`);
  }
}
