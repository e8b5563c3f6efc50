/**
 * The Plivo XML grammar: which elements exist, their valid attributes and what each may contain, as
 * plivo-node's XML builder enforces them (extracted into grammar.json by scripts/extract-plivo-grammar.mjs).
 */
import { readFileSync } from "node:fs";

export interface PlivoXmlGrammar {
  sdk: { name: string; version: string };
  source: string;
  root: { name: string; children: string[] };
  elements: Record<string, { attributes: string[]; children: string[] }>;
}

export const plivoXmlGrammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as PlivoXmlGrammar;

export const plivoSdk = plivoXmlGrammar.sdk;
export const rootElement = plivoXmlGrammar.root;

export function elementSpec(name: string): { attributes: string[]; children: string[] } | undefined {
  return Object.hasOwn(plivoXmlGrammar.elements, name) ? plivoXmlGrammar.elements[name] : undefined;
}

/** What `parent` may contain (the root's list for Response). */
export function allowedChildren(parent: string): readonly string[] {
  return parent === rootElement.name ? rootElement.children : (elementSpec(parent)?.children ?? []);
}
