#!/usr/bin/env node
/**
 * Extracts Vapi's server-message catalogue and reply shapes from @vapi-ai/server-sdk's generated type
 * declarations (dist/cjs/api/types/*.d.ts) into src/platforms/vapi/grammar.json, with the SDK version.
 * The declarations are Fern-generated and regular (one type per file: an interface, a const enum or a
 * union), so a small reader of those three forms is enough. Usage: node scripts/extract-vapi-grammar.mjs [--check]
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const sdkRoot = dirname(require.resolve("@vapi-ai/server-sdk/package.json"));
const typesDir = join(sdkRoot, "dist", "cjs", "api", "types");
export const outputFile = fileURLToPath(new URL("../src/platforms/vapi/grammar.json", import.meta.url));

/** The declaration text of one SDK type, comments removed. */
function declaration(name) {
  const text = readFileSync(join(typesDir, `${name}.d.ts`), "utf8");
  return text.replace(/\/\*\*[\s\S]*?\*\//g, "");
}

function tryDeclaration(name) {
  try {
    return declaration(name);
  } catch {
    return undefined;
  }
}

/** `{ field: { required, type } }` of `export interface Name { … }` (own fields only). */
function interfaceFields(name) {
  const text = declaration(name);
  const body = new RegExp(`export interface ${name}(?: extends [^{]+)? \\{([\\s\\S]*?)\\n\\}`).exec(text);
  if (!body) throw new Error(`${name}: not an interface`);
  return fieldsOf(body[1]);
}

function fieldsOf(body) {
  const fields = {};
  for (const match of body.matchAll(/^\s{4}(?:"([^"]+)"|([A-Za-z_$][\w$]*))(\?)?: (.+);$/gm)) {
    const type = match[4].replace(/ \| undefined$/, "");
    fields[match[1] ?? match[2]] = { required: match[3] === undefined, type: type.replace(/Vapi\./g, "") };
  }
  return fields;
}

/** The string values of `export declare const Name: { readonly A: "a"; … }`, or undefined. */
function enumValues(name) {
  const text = tryDeclaration(name);
  if (!text || !new RegExp(`export declare const ${name}: \\{`).test(text)) return undefined;
  return [...text.matchAll(/readonly [\w$]+: "((?:[^"\\]|\\.)*)";/g)].map((match) => JSON.parse(`"${match[1]}"`));
}

/** The member type names of `export type Name = Vapi.A | Vapi.B …`. */
function unionMembers(name) {
  const match = new RegExp(`export type ${name} = ([^;]+);`).exec(declaration(name));
  if (!match) throw new Error(`${name}: not a union`);
  return match[1].split("|").map((member) => member.trim().replace(/^Vapi\./, ""));
}

/** A discriminated union declared as a namespace of `interface X extends Vapi.Base { type: "x" }` (or another discriminator). */
function discriminatedMembers(name, discriminator = "type") {
  const text = declaration(name);
  const members = {};
  for (const match of text.matchAll(new RegExp(`interface \\w+ extends Vapi\\.(\\w+) \\{\\s*${discriminator}: "([^"]+)";\\s*\\}`, "g"))) {
    members[match[2]] = { interface: match[1], fields: interfaceFields(match[1]) };
  }
  return members;
}

/** Fields with their enum values where the field's type is an SDK const enum. */
function withEnums(fields) {
  const result = {};
  for (const [field, spec] of Object.entries(fields)) {
    const values = /^\w+$/.test(spec.type) ? enumValues(spec.type) : undefined;
    result[field] = values ? { ...spec, values } : spec;
  }
  return result;
}

/** The default a field's doc comment states: `Default is a,b,c.` (CreateAssistantDto.serverMessages). */
function documentedDefault(name, field) {
  const text = readFileSync(join(typesDir, `${name}.d.ts`), "utf8");
  const match = new RegExp(`/\\*\\*([^*]|\\*(?!/))*?Default is ([\\w.,\\[\\]="-]+)\\.(?:[^*]|\\*(?!/))*\\*/\\s*${field}\\?:`).exec(text);
  if (!match) throw new Error(`${name}.${field}: no "Default is …" in its doc comment`);
  return match[2].split(",");
}

export function extractVapiGrammar() {
  const sdk = JSON.parse(readFileSync(join(sdkRoot, "package.json"), "utf8"));
  const messages = {};
  for (const member of unionMembers("ServerMessageMessage")) {
    const fields = withEnums(interfaceFields(member));
    const types = fields.type?.values;
    if (!types) throw new Error(`${member}: no type enum`);
    const suffix = member.slice("ServerMessage".length);
    const reply = tryDeclaration(`ServerMessageResponse${suffix}`) ? `ServerMessageResponse${suffix}` : undefined;
    messages[types[0]] = {
      interface: member,
      ...(types.length > 1 && { aliases: types.slice(1) }),
      fields,
      ...(reply && { reply: { interface: reply, fields: interfaceFields(reply) } }),
    };
  }
  return {
    sdk: { name: sdk.name, version: sdk.version },
    source: "dist/cjs/api/types/*.d.ts (ServerMessageMessage, ServerMessageResponse*, ToolCall*, TransferDestination*)",
    messages,
    toolCall: interfaceFields("ToolCall"),
    toolCallFunction: interfaceFields("ToolCallFunction"),
    toolCallResult: interfaceFields("ToolCallResult"),
    destinations: {
      "assistant-request": discriminatedMembers("ServerMessageResponseAssistantRequestDestination"),
      "transfer-destination-request": discriminatedMembers("ServerMessageResponseTransferDestinationRequestDestination"),
    },
    call: withEnums(interfaceFields("Call")),
    artifact: interfaceFields("Artifact"),
    // A transient assistant (assistant-request's reply, message.assistant): its fields, and those of its parts by provider.
    assistant: {
      fields: interfaceFields("CreateAssistantDto"),
      model: discriminatedMembers("CreateAssistantDtoModel", "provider"),
      voice: discriminatedMembers("CreateAssistantDtoVoice", "provider"),
      transcriber: discriminatedMembers("CreateAssistantDtoTranscriber", "provider"),
    },
    // Which messages an assistant sends to its server: the values, and the default when serverMessages is not set.
    serverMessages: { values: enumValues("CreateAssistantDtoServerMessagesItem"), default: documentedDefault("CreateAssistantDto", "serverMessages") },
  };
}

export function serialise(grammar) {
  return `${JSON.stringify(grammar, null, 1)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = serialise(extractVapiGrammar());
  if (process.argv.includes("--check")) {
    const current = readFileSync(outputFile, "utf8");
    if (current !== text) {
      console.error(`${outputFile} is stale: run node scripts/extract-vapi-grammar.mjs`);
      process.exit(1);
    }
  } else {
    writeFileSync(outputFile, text);
    console.log(`wrote ${outputFile}`);
  }
}
