#!/usr/bin/env node
/**
 * Extracts what vwh needs of Retell's wire format from retell-sdk's type declarations into
 * src/platforms/retell/grammar.json (with the SDK version): the phone call object (PhoneCallResponse:
 * fields and their enums), the webhook events an agent can subscribe to, and the per-call override
 * fields a call_inbound reply may set (CallCreatePhoneCallParams; the webhook calls
 * retell_llm_dynamic_variables "dynamic_variables", per Retell's inbound-call-webhook docs).
 * Usage: node scripts/extract-retell-grammar.mjs
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
// retell-sdk does not export its package.json: find the package root from its main entry.
const main = require.resolve("retell-sdk");
const sdkRoot = main.slice(0, main.lastIndexOf("/retell-sdk/") + "/retell-sdk".length);
export const outputFile = fileURLToPath(new URL("../src/platforms/retell/grammar.json", import.meta.url));

const source = (file) => readFileSync(join(sdkRoot, "resources", file), "utf8").replace(/\/\*\*[\s\S]*?\*\//g, "");

/** The body of `interface Name {` at the given indentation, up to its closing brace. */
function block(text, name, indent) {
  const pad = " ".repeat(indent);
  const start = text.indexOf(`${pad}${indent === 0 ? "export " : ""}interface ${name} {`);
  if (start < 0) throw new Error(`interface ${name} not found`);
  const end = text.indexOf(`\n${pad}}`, start);
  return text.slice(start, end);
}

/** Own fields of a block: `name?: type;` one indentation level in (nested braces skipped). */
function fields(body, indent) {
  const pad = " ".repeat(indent + 4);
  const result = {};
  for (const match of body.matchAll(new RegExp(`^${pad}([a-z_][a-z0-9_]*)(\\?)?: ([^\\n]*)$`, "gm"))) {
    const type = match[3].replace(/;$/, "");
    const literals = [...type.matchAll(/'([^']+)'/g)].map((literal) => literal[1]);
    const isEnum = literals.length > 0 && /^('[^']+'( \| )?)+( \| null)?$/.test(type);
    result[match[1]] = { required: match[2] === undefined, ...(isEnum ? { values: literals } : { type: type.endsWith("{") ? "object" : type }) };
  }
  return result;
}

export function extractRetellGrammar() {
  const sdk = JSON.parse(readFileSync(join(sdkRoot, "package.json"), "utf8"));
  const call = source("call.d.ts");
  const agent = source("agent.d.ts");
  const events = /webhook_events\?: Array<([^>]+)>/.exec(agent)?.[1];
  if (!events) throw new Error("agent webhook_events not found");
  const params = fields(block(call, "CallCreatePhoneCallParams", 0), 0);
  const override = block(call, "AgentOverride", 4);
  const inboundReply = {};
  for (const [name, spec] of Object.entries(params)) {
    if (["override_agent_id", "override_agent_version", "metadata", "agent_override"].includes(name)) inboundReply[name] = spec;
    if (name === "retell_llm_dynamic_variables") inboundReply["dynamic_variables"] = spec;
  }
  const overrideParts = {};
  for (const part of Object.keys(fields(override, 4))) {
    const typeName = part
      .split("_")
      .map((word) => word[0].toUpperCase() + word.slice(1))
      .join("");
    overrideParts[part] = Object.keys(fields(block(call.slice(call.indexOf("interface AgentOverride {")), typeName, 8), 8)).sort();
  }
  return {
    sdk: { name: sdk.name, version: sdk.version },
    source: "resources/call.d.ts (PhoneCallResponse, CallCreatePhoneCallParams), resources/agent.d.ts (webhook_events)",
    webhookEvents: [...events.matchAll(/'([^']+)'/g)].map((match) => match[1]),
    phoneCall: fields(block(call, "PhoneCallResponse", 0), 0),
    inboundReply,
    agentOverride: overrideParts,
  };
}

export const serialise = (grammar) => `${JSON.stringify(grammar, null, 1)}\n`;

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(outputFile, serialise(extractRetellGrammar()));
  console.log(`wrote ${outputFile}`);
}
