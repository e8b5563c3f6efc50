/**
 * The Telnyx Call Control grammar, extracted from the official `telnyx` SDK by
 * scripts/extract-telnyx-grammar.mjs into grammar.json (SDK name and version inside; a test keeps it fresh).
 */
import grammar from "./grammar.json" with { type: "json" };

export interface FieldSpec {
  required: boolean;
  /** JSON types the field takes: string, number, boolean, array, object, null, or any. */
  types?: string[];
  /** The only strings the field takes. */
  enum?: string[];
}

export interface CommandSpec {
  method: string;
  sdk_method: string;
  params: string;
  fields: Record<string, FieldSpec>;
}

export const grammarSource: { package: string; version: string } = grammar.source;
export const commandSpecs: Readonly<Record<string, CommandSpec>> = grammar.commands as Record<string, CommandSpec>;
/** The SDK's webhook event types for voice (call control, conferences, streams, SIPREC). */
export const voiceEventTypes: readonly string[] = grammar.events.filter((type) => /^(call|conference|streaming|siprec)\./.test(type));
