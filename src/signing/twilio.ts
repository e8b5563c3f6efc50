/**
 * Twilio request validation (README: Signature schemes): `x-twilio-signature` = base64 HMAC-SHA1, keyed by the auth
 * token, of the full URL followed by the form parameters sorted by name (name+value, no separators).
 * JSON bodies use Twilio's variant: the URL carries `bodySHA256=<hex sha256 of the body>` and only the
 * URL is signed. No timestamp: Twilio signatures cannot expire.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { anyTextMatches, constantTimeEqual, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict } from "./types.js";

const header = "x-twilio-signature";
const isForm = (contentType: string | undefined) => /^application\/x-www-form-urlencoded\b/i.test(contentType ?? "");

/** Sorted by name; repeated names contribute each distinct value, sorted (as twilio-node does). */
export function twilioSignedData(url: string, params: URLSearchParams | undefined): string {
  if (!params) return url;
  const names = [...new Set(params.keys())].sort();
  let data = url;
  for (const name of names) for (const value of [...new Set(params.getAll(name))].sort()) data += name + value;
  return data;
}

export function twilioSignature(authToken: string, url: string, params: URLSearchParams | undefined): string {
  return createHmac("sha1", authToken)
    .update(Buffer.from(twilioSignedData(url, params), "utf8"))
    .digest("base64");
}

/** The URL with this body's bodySHA256; one already there (a recorded request's, the old body's) is dropped first. */
function withBodyHash(url: string, body: Buffer): string {
  const hash = createHash("sha256").update(body).digest("hex");
  const at = url.indexOf("?");
  const base = at === -1 ? url : url.slice(0, at);
  const kept = (at === -1 ? "" : url.slice(at + 1)).split("&").filter((pair) => pair !== "" && !/^bodySHA256(=|$)/.test(pair));
  return `${base}?${[...kept, `bodySHA256=${hash}`].join("&")}`;
}

/** Twilio may have signed the URL with or without the port; accept either, as twilio-node does. */
function urlVariants(url: string): string[] {
  const match = /^(https?:\/\/[^/?#:]+)(:\d+)?(.*)$/i.exec(url);
  if (!match) return [url];
  const [, origin, port, rest] = match;
  const defaultPort = url.toLowerCase().startsWith("https") ? ":443" : ":80";
  return [...new Set([url, `${origin}${rest}`, `${origin}${port ?? defaultPort}${rest}`])];
}

class TwilioSigner implements Signer {
  constructor(private readonly tokens: readonly string[]) {}

  sign(request: SignableRequest): SignedRequest {
    // Twilio signs with the primary auth token only; verification accepts the secondary too.
    const token = this.tokens[0]!;
    // A GET carries its parameters in the (signed) URL: the body part of the data is empty.
    if (isForm(request.contentType) || request.method === "GET") {
      const params = new URLSearchParams(request.method === "GET" ? "" : request.body.toString("utf8"));
      return { url: request.url, headers: { [header]: twilioSignature(token, request.url, params) } };
    }
    const url = withBodyHash(request.url, request.body);
    return { url, headers: { [header]: twilioSignature(token, url, undefined) } };
  }

  verify(request: ReceivedRequest): Verdict {
    const signature = requireHeader(request, header);
    if (typeof signature !== "string") return signature;
    if (!/^[A-Za-z0-9+/]{27}=$/.test(signature)) return invalid(`malformed ${header} (expected a base64 HMAC-SHA1)`);
    if (!request.url) return invalid("the request URL is needed to check a Twilio signature (--request-url)");
    let params: URLSearchParams | undefined;
    const bodyHash = URL.canParse(request.url) ? new URL(request.url).searchParams.get("bodySHA256") : null;
    if (bodyHash !== null) {
      const actual = createHash("sha256").update(request.body).digest("hex");
      if (!constantTimeEqual(Buffer.from(bodyHash), Buffer.from(actual))) return invalid("body does not match the URL's bodySHA256");
    } else {
      params = new URLSearchParams(request.body.toString("utf8"));
    }
    // Compared as base64 text, as twilio-node's validateRequest does.
    const expected = urlVariants(request.url).flatMap((url) => this.tokens.map((token) => twilioSignature(token, url, params)));
    return anyTextMatches(expected, [signature]) ? valid : invalid("no matching signature");
  }
}

export const twilioScheme: SignatureScheme = {
  name: "twilio",
  signsUrl: () => true,
  summary: "Twilio: x-twilio-signature, HMAC-SHA1 of URL + sorted form params (bodySHA256 for JSON)",
  headers: () => [header],
  create: (secrets) => new TwilioSigner(secrets.map((secret) => requireNonEmpty(secret, "a Twilio auth token"))),
  randomSecret: () => randomBytes(16).toString("hex"),
  probes: () => ({
    timestamped: false,
    malformed: () => ({ [header]: "sha1=not-base64" }),
  }),
};
