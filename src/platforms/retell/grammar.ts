/** Retell's call object, webhook events and inbound-reply fields, extracted from retell-sdk (scripts/extract-retell-grammar.mjs). */
import { readFileSync } from "node:fs";

export interface FieldSpec {
  required: boolean;
  type?: string;
  values?: string[];
}

export interface RetellGrammar {
  sdk: { name: string; version: string };
  webhookEvents: string[];
  phoneCall: Record<string, FieldSpec>;
  inboundReply: Record<string, FieldSpec>;
  agentOverride: Record<string, string[]>;
}

export const grammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as RetellGrammar;

export const sdkLabel = `${grammar.sdk.name} ${grammar.sdk.version}`;

/** A disconnection reason, checked against the SDK's enum so a renamed value fails the tests. */
export function disconnectionReason(reason: string): string {
  if (!grammar.phoneCall["disconnection_reason"]?.values?.includes(reason)) throw new Error(`"${reason}" is not a disconnection_reason of ${sdkLabel}`);
  return reason;
}
