/**
 * The XML reader of the platforms that answer in XML (TwiML, Plivo XML): fast-xml-parser with order kept,
 * its validator for line:column, a nesting limit, and elements with native paths
 * (`Response/Gather[1]/Say[2]`, each step indexed among its same-named siblings) that `expect.native` selects.
 */
import type { XMLParser } from "fast-xml-parser";
import { fastXmlParser } from "../../lib/lazy-modules.js";
import type { NativeDocument } from "../types.js";

export interface XmlElement {
  name: string;
  /** `Response/Gather[1]/Say[2]`; the root's path is its name. */
  path: string;
  attributes: Record<string, string>;
  /** The element's own text nodes, trimmed and joined by a space (children's text not included). */
  text: string;
  /** Everything the element holds as text, children's included, in document order, white space folded (SSML prompts). */
  allText: string;
  children: XmlElement[];
}

export type XmlReading =
  | { ok: true; roots: XmlElement[]; strayText: boolean }
  | { ok: false; line: number | undefined; column: number | undefined; message: string };

type OrderedNode = Record<string, unknown> & { ":@"?: Record<string, string> };

const parserOptions: ConstructorParameters<typeof XMLParser>[0] = {
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: "",
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  // Entity expansion stays bounded (fast-xml-parser's own limits): a reply is hostile input.
  processEntities: true,
  htmlEntities: false,
};
let parser: XMLParser | undefined;

/** Voice XML nests a few levels (Response/Gather/Say/prosody/emphasis …); deeper is hostile, not a reply. */
export const maxXmlDepth = 64;

function build(node: OrderedNode, parentPath: string | undefined, counts: Map<string, number>, depth: number): XmlElement | undefined {
  if (depth > maxXmlDepth) throw new Error(`elements nested deeper than ${maxXmlDepth} levels`);
  const name = Object.keys(node).find((key) => key !== ":@");
  if (name === undefined || name === "#text" || name.startsWith("?")) return undefined;
  const index = (counts.get(name) ?? 0) + 1;
  counts.set(name, index);
  const path = parentPath === undefined ? name : `${parentPath}/${name}[${index}]`;
  const element: XmlElement = { name, path, attributes: { ...node[":@"] }, text: "", allText: "", children: [] };
  const childCounts = new Map<string, number>();
  const own: string[] = [];
  const all: string[] = [];
  for (const child of (node[name] as OrderedNode[] | undefined) ?? []) {
    if (typeof child["#text"] === "string" || typeof child["#text"] === "number") {
      own.push(String(child["#text"]));
      all.push(String(child["#text"]));
    } else {
      const built = build(child, path, childCounts, depth + 1);
      if (built) {
        element.children.push(built);
        all.push(built.allText);
      }
    }
  }
  element.text = own.join(" ").trim();
  element.allText = all.join(" ").replace(/\s+/g, " ").trim();
  return element;
}

/** Well-formedness first (with line:column), then the tree. Never throws: a reply is hostile input. */
export function readXml(text: string): XmlReading {
  try {
    const { XMLParser, XMLValidator } = fastXmlParser();
    const validation = XMLValidator.validate(text);
    if (validation !== true) return { ok: false, line: validation.err.line, column: validation.err.col, message: validation.err.msg };
    const nodes = (parser ??= new XMLParser(parserOptions)).parse(text) as OrderedNode[];
    const counts = new Map<string, number>();
    const roots = nodes.map((node) => build(node, undefined, counts, 0)).filter((element) => element !== undefined);
    return { ok: true, roots, strayText: nodes.some((node) => "#text" in node) };
  } catch (error) {
    // Refused as unsafe by fast-xml-parser (names such as __proto__, entity bombs) or nested too deep.
    return { ok: false, line: undefined, column: undefined, message: `unreadable XML: ${(error as Error).message}` };
  }
}

/** `expect.native` over a document: `Response/Gather[1]@action` selects attribute values, `Response/Say[2]` an element's text. */
export function xmlDocument(root: XmlElement): NativeDocument {
  return {
    select(path) {
      const at = path.lastIndexOf("@");
      const [elementPath, attribute] = at === -1 ? [path, undefined] : [path.slice(0, at), path.slice(at + 1)];
      const steps = elementPath.split("/").filter(Boolean);
      const first = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(steps.shift() ?? "");
      if (!first || (first[1] !== root.name && first[1] !== "*") || (first[2] !== undefined && first[2] !== "1")) return [];
      let current = [root];
      for (const step of steps) {
        const match = /^([^[\]]+)(?:\[(\d+)\])?$/.exec(step);
        if (!match) return [];
        const [, name, index] = match;
        current = current.flatMap((element) => {
          const named = element.children.filter((child) => name === "*" || child.name === name);
          return index === undefined ? named : named.slice(Number(index) - 1, Number(index));
        });
      }
      return current.flatMap((element) =>
        attribute === undefined ? [element.allText] : Object.hasOwn(element.attributes, attribute) ? [element.attributes[attribute]!] : [],
      );
    },
  };
}
