/**
 * The TwiML voice grammar as twilio-node's generated `VoiceResponse` states it: extracted by
 * scripts/extract-twilio-grammar.mjs into twiml-grammar.json (never edited by hand; a test re-runs the
 * extraction and compares), with the sourced overrides of overrides.json on top where Twilio accepts
 * more than the SDK's types say (issue 24).
 */
import * as z from "zod";
import { readOverrides, type Override } from "../shared/overrides.js";
import data from "./twiml-grammar.json" with { type: "json" };

export interface AttributeType {
  type: "string" | "number" | "boolean" | "enum";
  /** The SDK type alias of an enum (its values are in `enums`). */
  enum?: string;
  /** An array in the SDK: space-separated in the XML (`input="dtmf speech"`). */
  list?: boolean;
}

export interface ElementGrammar {
  attributes: Record<string, AttributeType>;
  /** The SDK types the attributes as `object`: anything goes. */
  anyAttributes: boolean;
  /** Whether the builder takes a text argument (`say(message)`, `redirect(url)`, `dial(number?)`). */
  text: "none" | "optional" | "required";
  /** Child element name → its class. */
  children: Record<string, string>;
}

export interface TwimlGrammar {
  source: { package: string; version: string; files: string[] };
  root: { element: string; class: string };
  elements: Record<string, ElementGrammar>;
  enums: Record<string, string[]>;
}

/** twiml-grammar.json as extracted from the SDK. */
export const sdkGrammar = data as TwimlGrammar;

const textRule = z.enum(["none", "optional", "required"]);
type OverrideType = { text: z.infer<typeof textRule> } | AttributeType;
const overrideType: z.ZodType<OverrideType> = z.union([
  z.strictObject({ text: textRule }),
  z.strictObject({ type: z.enum(["string", "number", "boolean", "enum"]), enum: z.string().optional(), list: z.boolean().optional() }),
]) as z.ZodType<OverrideType>;

export const twimlOverrides: readonly Override<OverrideType>[] = readOverrides(new URL("./overrides.json", import.meta.url), overrideType);

/** The grammar Twilio accepts: the SDK's, each override applied on a copy. */
export function withOverrides(base: TwimlGrammar, overrides: readonly Override<OverrideType>[]): TwimlGrammar {
  const copy = structuredClone(base);
  for (const override of overrides) {
    const [, className, mark, name] = /^(\w+)([#@])(\w+)$/.exec(override.field) ?? [];
    const element = className === undefined ? undefined : copy.elements[className];
    if (!element || name === undefined) throw new Error(`src/platforms/twilio/overrides.json: ${override.field} names no element of the TwiML grammar`);
    if (mark === "#" && "text" in override.accept && name === "text") element.text = override.accept.text;
    else if (mark === "@" && "type" in override.accept) element.attributes[name] = override.accept;
    else throw new Error(`src/platforms/twilio/overrides.json: ${override.field}: accept does not fit the field`);
  }
  return copy;
}

export const grammar = withOverrides(sdkGrammar, twimlOverrides);

/** Element names that appear anywhere in the grammar, to tell "not here" from "not TwiML at all". */
export const knownElementNames: ReadonlySet<string> = new Set(Object.values(grammar.elements).flatMap((element) => Object.keys(element.children)));
