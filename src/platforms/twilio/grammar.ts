/**
 * The TwiML voice grammar as twilio-node's generated `VoiceResponse` states it: extracted by
 * scripts/extract-twilio-grammar.mjs into twiml-grammar.json (never edited by hand; a test re-runs the
 * extraction and compares).
 */
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

export const grammar = data as TwimlGrammar;

/** Element names that appear anywhere in the grammar, to tell "not here" from "not TwiML at all". */
export const knownElementNames: ReadonlySet<string> = new Set(Object.values(grammar.elements).flatMap((element) => Object.keys(element.children)));
