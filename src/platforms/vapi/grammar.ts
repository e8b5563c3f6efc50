/**
 * Vapi's server messages and reply shapes, as extracted from @vapi-ai/server-sdk's types by
 * scripts/extract-vapi-grammar.mjs (never typed by hand; test/platforms/vapi.test.ts checks it is current).
 */
import { readFileSync } from "node:fs";

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
}

export const grammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as VapiGrammar;

export const sdkLabel = `${grammar.sdk.name} ${grammar.sdk.version}`;

/** Every message type, aliases included (`transcript[transcriptType="final"]`), with its spec. */
export function messageSpec(type: string): MessageSpec | undefined {
  if (Object.hasOwn(grammar.messages, type)) return grammar.messages[type];
  return Object.values(grammar.messages).find((spec) => spec.aliases?.includes(type));
}

export function enumValues(type: string, field: string): readonly string[] {
  return messageSpec(type)?.fields[field]?.values ?? [];
}
