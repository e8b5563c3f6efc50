/**
 * Vapi's server messages and reply shapes, as extracted from @vapi-ai/server-sdk's types by
 * scripts/extract-vapi-grammar.mjs (never typed by hand; test/platforms/vapi.test.ts checks it is current),
 * with the sourced overrides of overrides.json on top where Vapi accepts more than the types say (issue 24).
 */
import { readFileSync } from "node:fs";
import * as z from "zod";
import { readOverrides, type Override } from "../shared/overrides.js";

export interface FieldSpec {
  required: boolean;
  /** The SDK's type text (`string`, `ToolCall[]`, `ServerMessageStatusUpdateStatus` …). */
  type: string;
  /** The allowed values, where the type is one of the SDK's string enums. */
  values?: string[];
}

export type Fields = Record<string, FieldSpec>;

export interface MessageSpec {
  interface: string;
  aliases?: string[];
  fields: Fields;
  /** The reply Vapi reads, for the messages it waits on. */
  reply?: { interface: string; fields: Fields };
}

export interface VapiGrammar {
  sdk: { name: string; version: string };
  messages: Record<string, MessageSpec>;
  toolCall: Fields;
  toolCallFunction: Fields;
  toolCallResult: Fields;
  destinations: Record<string, Record<string, { interface: string; fields: Fields }>>;
  call: Fields;
  artifact: Fields;
  /** CreateAssistantDto, and its model/voice/transcriber by provider. */
  assistant: {
    fields: Fields;
    model: Record<string, { interface: string; fields: Fields }>;
    voice: Record<string, { interface: string; fields: Fields }>;
    transcriber: Record<string, { interface: string; fields: Fields }>;
  };
  /** CreateAssistantDto.serverMessages: the values, and the default when an assistant does not set it. */
  serverMessages: { values: string[]; default: string[] };
}

/** grammar.json as extracted from the SDK. */
export const sdkGrammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as VapiGrammar;

const fieldSpecSchema = z.strictObject({ required: z.boolean(), type: z.string().min(1), values: z.array(z.string()).optional() });
const fieldsSchema = z.record(z.string(), fieldSpecSchema);
const messageSpecSchema = z.strictObject({
  interface: z.string().min(1),
  fields: fieldsSchema,
  reply: z.strictObject({ interface: z.string().min(1), fields: fieldsSchema }).optional(),
});
type OverrideType = FieldSpec | MessageSpec;

export const vapiOverrides: readonly Override<OverrideType>[] = readOverrides(
  new URL("./overrides.json", import.meta.url),
  z.union([fieldSpecSchema, messageSpecSchema]),
) as Override<OverrideType>[];

const fieldTables = ["toolCall", "toolCallFunction", "toolCallResult", "call", "artifact"] as const;

/** The grammar Vapi accepts: the SDK's, each override applied on a copy. */
export function withOverrides(base: VapiGrammar, overrides: readonly Override<OverrideType>[]): VapiGrammar {
  const copy = structuredClone(base);
  for (const override of overrides) {
    const parts = override.field.split(".");
    if (parts[0] === "messages" && parts.length === 2 && "interface" in override.accept) {
      copy.messages[parts[1]!] = override.accept;
      continue;
    }
    if ("interface" in override.accept) throw new Error(`src/platforms/vapi/overrides.json: ${override.field}: a message spec goes on messages.<type>`);
    const table =
      (fieldTables as readonly string[]).includes(parts[0] ?? "") && parts.length === 2
        ? copy[parts[0] as (typeof fieldTables)[number]]
        : parts[0] === "messages" && parts[2] === "reply" && parts.length === 4
          ? copy.messages[parts[1] ?? ""]?.reply?.fields
          : undefined;
    const name = parts.at(-1);
    if (!table || name === undefined) throw new Error(`src/platforms/vapi/overrides.json: ${override.field} names no field table of the Vapi grammar`);
    table[name] = override.accept;
  }
  return copy;
}

export const grammar = withOverrides(sdkGrammar, vapiOverrides);

export const sdkLabel = `${grammar.sdk.name} ${grammar.sdk.version}`;

/** Every message type, aliases included (`transcript[transcriptType="final"]`), with its spec. */
export function messageSpec(type: string): MessageSpec | undefined {
  if (Object.hasOwn(grammar.messages, type)) return grammar.messages[type];
  return Object.values(grammar.messages).find((spec) => spec.aliases?.includes(type));
}

export function enumValues(type: string, field: string): readonly string[] {
  return messageSpec(type)?.fields[field]?.values ?? [];
}
