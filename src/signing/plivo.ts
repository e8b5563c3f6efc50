/**
 * Plivo V3 signatures (README: Signature schemes, docs/platforms/plivo.md, plivo-node's utils/v3Security.js): base64 HMAC-SHA256,
 * keyed by the auth token, of `{base}.{nonce}`. For a GET the base is the URL without its query plus the
 * sorted query (`?a=1&b=2`); for a POST it is the URL, then (when the URL has a query) `?{sorted query}.`
 * or else `?`, then the sorted form parameters as name+value with no separators. Headers:
 * `x-plivo-signature-v3` (a comma-separated list; any match passes), `x-plivo-signature-v3-nonce`, and
 * `x-plivo-signature-ma-v3` (the main account's signature; vwh signs it with the same token). No timestamp:
 * a V3 signature does not expire, so only the nonce can help a handler refuse replays.
 */
import { createHmac, randomBytes } from "node:crypto";
import { anyMatches, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict } from "./types.js";

const signatureHeader = "x-plivo-signature-v3";
const nonceHeader = "x-plivo-signature-v3-nonce";
const mainAccountHeader = "x-plivo-signature-ma-v3";
const isForm = (contentType: string | undefined) => /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "");

/** Names sorted, each name's values sorted (JavaScript's default order, as plivo-node sorts). */
function sortedEntries(params: URLSearchParams): [string, string][] {
  const entries: [string, string][] = [];
  for (const name of [...new Set(params.keys())].sort()) for (const value of params.getAll(name).sort()) entries.push([name, value]);
  return entries;
}

/** The string plivo-node signs (before `.{nonce}`). */
export function plivoSignedBase(method: string, url: string, form: URLSearchParams | undefined): string {
  const parsed = new URL(url);
  const base = `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
  const query = sortedEntries(parsed.searchParams)
    .map(([name, value]) => `${name}=${value}`)
    .join("&");
  if (method.toUpperCase() !== "POST") return query ? `${base}?${query}` : base;
  const params = form ? sortedEntries(form) : [];
  let signed = base;
  if (query || params.length > 0) signed += `?${query}`;
  if (query && params.length > 0) signed += ".";
  return signed + params.map(([name, value]) => name + value).join("");
}

export function plivoSignature(authToken: string, method: string, url: string, form: URLSearchParams | undefined, nonce: string): string {
  return createHmac("sha256", authToken)
    .update(`${plivoSignedBase(method, url, form)}.${nonce}`)
    .digest("base64");
}

class PlivoSigner implements Signer {
  constructor(private readonly tokens: readonly string[]) {}

  sign(request: SignableRequest): SignedRequest {
    const nonce = randomBytes(10).readBigUInt64BE().toString().slice(0, 20);
    const form = isForm(request.contentType) ? new URLSearchParams(request.body.toString("utf8")) : undefined;
    const signature = plivoSignature(this.tokens[0]!, request.method, request.url, form, nonce);
    return { url: request.url, headers: { [signatureHeader]: signature, [nonceHeader]: nonce, [mainAccountHeader]: signature } };
  }

  verify(request: ReceivedRequest): Verdict {
    const given = requireHeader(request, signatureHeader);
    if (typeof given !== "string") return given;
    const nonce = requireHeader(request, nonceHeader);
    if (typeof nonce !== "string") return nonce;
    if (!request.url || !URL.canParse(request.url)) return invalid("the request URL is needed to check a Plivo signature (--request-url)");
    const signatures = given.split(",").map((signature) => signature.trim());
    if (!signatures.every((signature) => /^[A-Za-z0-9+/]{43}=$/.test(signature)))
      return invalid(`malformed ${signatureHeader} (expected base64 HMAC-SHA256 signatures, comma-separated)`);
    const method = request.method.toUpperCase();
    const form = method === "POST" && isForm(request.headers["content-type"]) ? new URLSearchParams(request.body.toString("utf8")) : undefined;
    const expected = this.tokens.map((token) => Buffer.from(plivoSignature(token, method, request.url, form, nonce), "base64"));
    return anyMatches(
      expected,
      signatures.map((signature) => Buffer.from(signature, "base64")),
    )
      ? valid
      : invalid("no matching signature");
  }
}

export const plivoScheme: SignatureScheme = {
  name: "plivo",
  signsUrl: () => true,
  summary: "Plivo: x-plivo-signature-v3 + nonce, HMAC-SHA256 of the URL, sorted query and form params (auth token)",
  headers: () => [signatureHeader, nonceHeader, mainAccountHeader],
  create: (secrets) => new PlivoSigner(secrets.map((secret) => requireNonEmpty(secret, "a Plivo auth token"))),
  randomSecret: () => randomBytes(20).toString("base64url"),
  probes: () => ({
    timestamped: false,
    malformed: (headers) => ({ ...headers, [signatureHeader]: "not-a-signature" }),
    rotatedList: (validHeaders, wrong) => ({ ...validHeaders, [signatureHeader]: `${wrong[signatureHeader]},${validHeaders[signatureHeader]}` }),
  }),
};
