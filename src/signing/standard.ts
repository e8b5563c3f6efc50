/**
 * Standard Webhooks v1 (SPEC §3; standard-webhooks/standard-webhooks): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}` keyed by the base64 part of a `whsec_` secret; several signatures
 * space-separated for key rotation.
 */
import { createHmac } from "node:crypto";
import { UsageError } from "../errors.js";
import { checkTimestamp, constantTimeEqual } from "./compare.js";
import type { ReceivedRequest, SecretInput, SignableRequest, SignatureScheme, Signer, Verdict, VerifyOptions } from "./types.js";

const prefix = "whsec_";
const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function parseStandardSecret(secret: SecretInput): Buffer {
  const encoded = secret.value.startsWith(prefix) ? secret.value.slice(prefix.length) : undefined;
  if (encoded === undefined || encoded.length === 0 || !base64.test(encoded)) {
    throw new UsageError(
      `secret ${secret.source} is not a Standard Webhooks secret: expected whsec_ followed by base64`,
      "generate one with: node -e \"console.log('whsec_' + require('crypto').randomBytes(24).toString('base64'))\"",
    );
  }
  return Buffer.from(encoded, "base64");
}

export function standardSignature(key: Buffer, id: string, timestamp: number | string, body: Buffer): string {
  return createHmac("sha256", key).update(`${id}.${timestamp}.`).update(body).digest("base64");
}

class StandardSigner implements Signer {
  constructor(private readonly keys: readonly Buffer[]) {}

  sign(request: SignableRequest): Record<string, string> {
    return {
      "webhook-id": request.id,
      "webhook-timestamp": String(request.timestamp),
      "webhook-signature": this.keys
        .map((key) => `v1,${standardSignature(key, request.id, request.timestamp, request.body)}`)
        .join(" "),
    };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const id = request.headers["webhook-id"];
    const timestampHeader = request.headers["webhook-timestamp"];
    const signatureHeader = request.headers["webhook-signature"];
    for (const [name, value] of [["webhook-id", id], ["webhook-timestamp", timestampHeader], ["webhook-signature", signatureHeader]] as const) {
      if (value === undefined || value === "") return { valid: false, reason: `missing header ${name}` };
    }
    if (!/^\d+$/.test(timestampHeader!)) return { valid: false, reason: "invalid webhook-timestamp (expected unix seconds)" };
    const timestamp = Number(timestampHeader);
    const stale = checkTimestamp(timestamp, options.now, options.toleranceSeconds);
    if (stale) return { valid: false, reason: stale };

    const candidates = signatureHeader!.split(" ").filter(Boolean);
    const v1 = candidates.filter((entry) => entry.startsWith("v1,")).map((entry) => Buffer.from(entry.slice(3), "base64"));
    if (v1.length === 0) {
      return { valid: false, reason: candidates.some((entry) => entry.includes(",")) ? "no v1 signature (only unknown versions)" : "malformed webhook-signature (expected v1,<base64>)" };
    }
    for (const key of this.keys) {
      const expected = Buffer.from(standardSignature(key, id!, timestampHeader!, request.body), "base64");
      // Check every entry without stopping early, so timing does not reveal which one matched.
      let matched = false;
      for (const given of v1) matched = constantTimeEqual(expected, given) || matched;
      if (matched) return { valid: true };
    }
    return { valid: false, reason: "no matching signature" };
  }
}

export const standardScheme: SignatureScheme = {
  name: "standard",
  summary: "Standard Webhooks v1: webhook-id, webhook-timestamp, webhook-signature (v1,<base64>)",
  headers: ["webhook-id", "webhook-timestamp", "webhook-signature"],
  create(secrets: readonly SecretInput[]): Signer {
    return new StandardSigner(secrets.map(parseStandardSecret));
  },
};
