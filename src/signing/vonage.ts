/**
 * Vonage signed callbacks (README: Signature schemes, docs/platforms/vonage.md): `Authorization: Bearer <JWT>`, HS256 keyed by the
 * account's signature secret, with claims iat, jti, iss "Vonage" and payload_hash — the hex SHA-256 of
 * the raw body, or for a GET of the query as a JSON object (no whitespace, parameter order kept).
 *
 * @vonage/jwt's verifySignature checks the token's signature (and exp/nbf when present) only. vwh
 * also checks payload_hash — without it a signed token can be replayed over any body — and the age of
 * iat; a failure of either says that the SDK alone would have accepted the request.
 */
import { createHash, createHmac, randomBytes, randomUUID } from "node:crypto";
import { anyMatches, checkTimestamp, constantTimeEqual, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict, VerifyOptions } from "./types.js";

const header = "authorization";
const sdkNote = "@vonage/jwt's verifySignature does not check this; vwh does";

/** What payload_hash covers: the body bytes, or for a GET the query parameters as a JSON object. */
export function vonagePayloadHash(method: string, url: string, body: Buffer): string {
  const hash = createHash("sha256");
  if (method.toUpperCase() === "GET") {
    const query = URL.canParse(url) ? new URL(url).searchParams : new URLSearchParams();
    hash.update(JSON.stringify(Object.fromEntries(query)));
  } else hash.update(body);
  return hash.digest("hex");
}

const base64url = (value: Buffer | string) => Buffer.from(value).toString("base64url");

function hs256(secret: string, signingInput: string): Buffer {
  return createHmac("sha256", secret).update(signingInput).digest();
}

export function signVonageJwt(secret: string, claims: Record<string, unknown>): string {
  const signingInput = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${hs256(secret, signingInput).toString("base64url")}`;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

class VonageSigner implements Signer {
  constructor(private readonly secrets: readonly string[]) {}

  sign(request: SignableRequest): SignedRequest {
    const claims = { iat: request.timestamp, jti: randomUUID(), iss: "Vonage", payload_hash: vonagePayloadHash(request.method, request.url, request.body) };
    return { url: request.url, headers: { [header]: `Bearer ${signVonageJwt(this.secrets[0]!, claims)}` } };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const value = requireHeader(request, header);
    if (typeof value !== "string") return value;
    const token = /^Bearer\s+(\S+)$/i.exec(value)?.[1];
    const parts = token?.split(".");
    if (!token || parts?.length !== 3) return invalid(`malformed ${header} (expected "Bearer <JWT>")`);
    const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
    const jose = decodeJson(headerPart);
    const claims = decodeJson(payloadPart);
    if (!jose || !claims || !/^[A-Za-z0-9_-]*$/.test(signaturePart))
      return invalid("malformed JWT (expected three base64url parts, header and claims JSON objects)");
    if (jose["alg"] !== "HS256") return invalid(`unsupported JWT alg ${JSON.stringify(jose["alg"])} (Vonage signs callbacks with HS256)`);
    const signingInput = `${headerPart}.${payloadPart}`;
    const expected = this.secrets.map((secret) => hs256(secret, signingInput));
    if (!anyMatches(expected, [Buffer.from(signaturePart, "base64url")])) return invalid("no matching signature");
    // jsonwebtoken's own time checks, as the SDK applies them.
    if (typeof claims["exp"] === "number" && options.now >= claims["exp"]) return invalid(`token expired (exp ${claims["exp"]})`);
    if (typeof claims["nbf"] === "number" && options.now < claims["nbf"]) return invalid(`token not yet valid (nbf ${claims["nbf"]})`);
    if (typeof claims["iat"] !== "number") return invalid(`missing iat claim (${sdkNote})`);
    const stale = checkTimestamp(claims["iat"], options.now, options.toleranceSeconds);
    if (stale) return invalid(`iat ${stale} (${sdkNote})`);
    const hash = claims["payload_hash"];
    if (typeof hash !== "string") return invalid(`missing payload_hash claim (${sdkNote})`);
    const actual = vonagePayloadHash(request.method, request.url, request.body);
    if (!constantTimeEqual(Buffer.from(hash.toLowerCase()), Buffer.from(actual)))
      return invalid(`payload_hash does not match the ${request.method.toUpperCase() === "GET" ? "query" : "body"} (${sdkNote})`);
    return valid;
  }
}

export const vonageScheme: SignatureScheme = {
  name: "vonage",
  summary: "Vonage: Authorization: Bearer JWT (HS256, signature secret) with payload_hash of the body (checked too)",
  headers: () => [header],
  create: (secrets) => new VonageSigner(secrets.map((secret) => requireNonEmpty(secret, "a Vonage signature secret"))),
  randomSecret: () => randomBytes(24).toString("base64url"),
  probes: () => ({
    timestamped: true,
    malformed: () => ({ [header]: "Bearer not-a-jwt" }),
  }),
};
