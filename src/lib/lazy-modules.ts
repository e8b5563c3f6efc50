/**
 * Libraries only some runs need, loaded on first use from their CommonJS builds: fast-xml-parser (the XML
 * platforms' replies, the inspector's pretty-printing) and RE2JS (`matches` expectations). Their ES module
 * builds are thirty modules and one 260 KB module; loading both at every start cost ≈70 ms of CPU, on runs
 * that read no XML and match no pattern as well. Every use in src/ goes through here (one copy of each
 * library, so RE2JSException and the parsers' classes are the same everywhere).
 */
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);

type FastXmlParser = typeof import("fast-xml-parser");
type Re2js = typeof import("re2js");

let fastXml: FastXmlParser | undefined;
let re2js: Re2js | undefined;

/** fast-xml-parser's XMLParser, XMLValidator and XMLBuilder. */
export const fastXmlParser = (): FastXmlParser => (fastXml ??= require("fast-xml-parser") as FastXmlParser);

/** RE2JS and RE2JSException. */
export const re2 = (): Re2js => (re2js ??= require("re2js") as Re2js);
