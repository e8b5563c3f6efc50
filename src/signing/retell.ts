/**
 * Retell AI (README: Signature schemes): `x-retell-signature: v=<unix ms>,d=<hex>` where d is HMAC-SHA256, keyed by the
 * API key, of the body followed by the millisecond timestamp (as retell-sdk's `sign`).
 */
import { createHmac, randomBytes } from "node:crypto";
import { anyMatches, checkTimestamp, invalid, requireHeader, requireNonEmpty, valid } from "./common.js";
import type { ReceivedRequest, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict, VerifyOptions } from "./types.js";

const header = "x-retell-signature";

function retellDigest(apiKey: string, body: Buffer, timestampMs: number): Buffer {
  return createHmac("sha256", apiKey).update(body).update(String(timestampMs)).digest();
}

class RetellSigner implements Signer {
  constructor(private readonly apiKeys: readonly string[]) {}

  sign(request: SignableRequest): SignedRequest {
    const timestampMs = request.timestamp * 1000;
    const digest = retellDigest(this.apiKeys[0]!, request.body, timestampMs).toString("hex");
    return { url: request.url, headers: { [header]: `v=${timestampMs},d=${digest}` } };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const value = requireHeader(request, header);
    if (typeof value !== "string") return value;
    const match = /^v=(\d+),d=([0-9a-f]{64})$/i.exec(value);
    if (!match) return invalid(`malformed ${header} (expected v=<unix ms>,d=<hex>)`);
    const [, timestampMs, digest] = match;
    // retell-sdk matches this header case-insensitively (`V=`, upper-case hex) and so do we: exactly as strict.
    if (!Number.isSafeInteger(Number(timestampMs))) return invalid(`malformed ${header} (expected v=<unix ms>,d=<hex>)`);
    const stale = checkTimestamp(Number(timestampMs) / 1000, options.now, options.toleranceSeconds);
    if (stale) return invalid(stale);
    // Signed over the number, as retell-sdk reads it: `v=0…` is the same time and the same digest.
    const expected = this.apiKeys.map((key) => retellDigest(key, request.body, Number(timestampMs)));
    return anyMatches(expected, [Buffer.from(digest!, "hex")]) ? valid : invalid("no matching signature");
  }
}

export const retellScheme: SignatureScheme = {
  name: "retell",
  summary: "Retell AI: x-retell-signature: v=<ms>,d=<hex> (HMAC-SHA256 of body + timestamp, keyed by the API key)",
  headers: () => [header],
  create: (secrets) => new RetellSigner(secrets.map((secret) => requireNonEmpty(secret, "a Retell API key"))),
  randomSecret: () => `key_${randomBytes(16).toString("hex")}`,
  probes: () => ({
    timestamped: true,
    malformed: () => ({ [header]: "d=not-hex" }),
  }),
};
