/**
 * Plivo XML as a tree with native paths (`Response/GetInput[1]/Speak[1]`), parsed by fast-xml-parser
 * (its validator gives line:column for malformed documents), and `expect.native` over it:
 * `Response/GetInput@action` selects attribute values, `Response/Speak[2]` an element's text.
 */
import { XMLParser, XMLValidator } from "fast-xml-parser";
import type { NativeDocument } from "../types.js";

export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** The element's own text (text nodes joined by a space; SSML children's text included for prompts). */
  text: string;
  /** `Response/GetInput[1]/Speak[1]`: 1-based among siblings of the same name. */
  path: string;
}

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
});

function build(node: OrderedNode, parentPath: string, counts: Map<string, number>): XmlElement | undefined {
  const name = Object.keys(node).find((key) => key !== ":@");
  if (name === undefined || name === "#text") return undefined;
  const index = (counts.get(name) ?? 0) + 1;
  counts.set(name, index);
  const path = parentPath ? `${parentPath}/${name}[${index}]` : name;
  const element: XmlElement = { name, attributes: { ...(node[":@"] ?? {}) }, children: [], text: "", path };
  const childCounts = new Map<string, number>();
  const texts: string[] = [];
  for (const child of (node[name] as OrderedNode[] | undefined) ?? []) {
    if ("#text" in child) texts.push(String(child["#text"]));
    else {
      const built = build(child, path, childCounts);
      if (built) {
        element.children.push(built);
        if (built.text) texts.push(built.text);
      }
    }
  }
  element.text = texts.join(" ").trim();
  return element;
}

export type ParsedXml = { ok: true; roots: XmlElement[]; strayText: boolean } | { ok: false; line: number | undefined; column: number | undefined; message: string };

export function parseXml(text: string): ParsedXml {
  const validation = XMLValidator.validate(text);
  if (validation !== true) return { ok: false, line: validation.err.line, column: validation.err.col, message: validation.err.msg };
  let nodes: OrderedNode[];
  try {
    nodes = parser.parse(text) as OrderedNode[];
  } catch (error) {
    // Refused as unsafe by fast-xml-parser: entity expansion past its limits, external entities,
    // names such as __proto__, nesting past its maximum. A reply is hostile input.
    return { ok: false, line: undefined, column: undefined, message: `unreadable XML: ${(error as Error).message}` };
  }
  const counts = new Map<string, number>();
  const roots = nodes.map((node) => build(node, "", counts)).filter((element): element is XmlElement => element !== undefined);
  return { ok: true, roots, strayText: nodes.some((node) => "#text" in node) };
}

/** `Response/GetInput[1]@action`, `Response/*` … over the document's root element. */
export function xmlDocument(root: XmlElement): NativeDocument {
  return {
    select(path) {
      const [elementPath = "", attribute] = path.split("@", 2) as [string, string | undefined];
      const segments = elementPath.split("/").filter(Boolean);
      const first = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(segments[0] ?? "");
      if (!first || (first[1] !== root.name && first[1] !== "*") || (first[2] !== undefined && first[2] !== "1")) return [];
      let current = [root];
      for (const segment of segments.slice(1)) {
        const match = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(segment);
        if (!match) return [];
        const [, name, position] = match;
        current = current.flatMap((element) => {
          const named = element.children.filter((child) => name === "*" || child.name === name);
          return position === undefined ? named : named.slice(Number(position) - 1, Number(position));
        });
      }
      return attribute === undefined ? current.map((element) => element.text) : current.flatMap((element) => (Object.hasOwn(element.attributes, attribute) ? [element.attributes[attribute]] : []));
    },
  };
}
