/**
 * Standard Webhooks v1 (README: Signature schemes; standard-webhooks/standard-webhooks): HMAC-SHA256 over
 * `{id}.{timestamp}.{body}` keyed by the base64 part of a `whsec_` secret; several signatures
 * space-separated for key rotation.
 */
import { createHmac, randomBytes } from "node:crypto";
import { UsageError } from "../core/errors.js";
import { anyTextMatches, checkTimestamp, invalid, requireHeader, valid } from "./common.js";
import type { ReceivedRequest, SecretInput, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict, VerifyOptions } from "./types.js";

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

  sign(request: SignableRequest): SignedRequest {
    // A loop rather than map and join: load mode signs every attempt, nearly always with one key.
    const { keys } = this;
    let signatures = "";
    for (let i = 0; i < keys.length; i++) signatures += `${i === 0 ? "" : " "}v1,${standardSignature(keys[i]!, request.id, request.timestamp, request.body)}`;
    return {
      url: request.url,
      headers: {
        "webhook-id": request.id,
        "webhook-timestamp": String(request.timestamp),
        "webhook-signature": signatures,
      },
    };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const id = requireHeader(request, "webhook-id");
    if (typeof id !== "string") return id;
    const timestamp = requireHeader(request, "webhook-timestamp");
    if (typeof timestamp !== "string") return timestamp;
    const signatureHeader = requireHeader(request, "webhook-signature");
    if (typeof signatureHeader !== "string") return signatureHeader;
    if (!/^\d+$/.test(timestamp)) return invalid("invalid webhook-timestamp (expected unix seconds)");
    const stale = checkTimestamp(Number(timestamp), options.now, options.toleranceSeconds);
    if (stale) return invalid(stale);

    // As standardwebhooks does: each space-separated entry is `version,signature`, compared as text.
    const entries = signatureHeader.split(" ").filter(Boolean);
    const v1 = entries
      .map((entry) => entry.split(","))
      .filter(([version]) => version === "v1")
      .map(([, signature]) => signature ?? "");
    if (v1.length === 0) {
      return invalid(
        entries.some((entry) => /^v\w+,/.test(entry)) ? "no v1 signature (only unknown versions)" : "malformed webhook-signature (expected v1,<base64>)",
      );
    }
    const expected = this.keys.map((key) => standardSignature(key, id, timestamp, request.body));
    return anyTextMatches(expected, v1) ? valid : invalid("no matching signature");
  }
}

export const standardScheme: SignatureScheme = {
  name: "standard",
  summary: "Standard Webhooks v1: webhook-id, webhook-timestamp, webhook-signature: v1,<base64>",
  headers: () => ["webhook-id", "webhook-timestamp", "webhook-signature"],
  create: (secrets) => new StandardSigner(secrets.map(parseStandardSecret)),
  randomSecret: () => `${prefix}${randomBytes(24).toString("base64")}`,
  probes: () => ({
    timestamped: true,
    unknownVersion: (headers) => ({ ...headers, "webhook-signature": headers["webhook-signature"]!.replace(/^v1,/, "v2,") }),
    rotatedList: (valid, wrong) => ({ ...valid, "webhook-signature": `${wrong["webhook-signature"]} ${valid["webhook-signature"]}` }),
    malformed: (headers) => ({ ...headers, "webhook-signature": headers["webhook-signature"]!.replace(/^v1,/, "") }),
  }),
};
