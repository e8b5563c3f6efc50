/**
 * Telnyx (README: Signature schemes): Ed25519 over `{timestamp}|{body}`, headers `telnyx-signature-ed25519` (base64)
 * and `telnyx-timestamp`. The signer takes a private key, the verifier a public key: base64 of the raw
 * 32 bytes (as Telnyx's portal shows the public key), or PEM.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from "node:crypto";
import { UsageError } from "../core/errors.js";
import { checkTimestamp, invalid, requireHeader, valid } from "./common.js";
import type { ReceivedRequest, SecretInput, SignableRequest, SignatureScheme, SignedRequest, Signer, Verdict, VerifyOptions } from "./types.js";

const signatureHeader = "telnyx-signature-ed25519";
const timestampHeader = "telnyx-timestamp";
// DER prefixes that wrap a raw 32-byte Ed25519 key as PKCS#8 (private) and SPKI (public).
const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");
const spkiPrefix = Buffer.from("302a300506032b6570032100", "hex");

function keyError(secret: SecretInput, expected: string): UsageError {
  return new UsageError(`secret ${secret.source} is not an Ed25519 ${expected}: expected base64 of 32 bytes, or PEM`);
}

function decodeRaw(value: string): Buffer | undefined {
  const trimmed = value.trim();
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) return undefined;
  const bytes = Buffer.from(trimmed, "base64");
  // 32: a seed or a public key; 64: libsodium's seed + public key.
  return bytes.length === 32 || bytes.length === 64 ? bytes : undefined;
}

export function parseTelnyxPrivateKey(secret: SecretInput): KeyObject {
  try {
    if (secret.value.includes("-----BEGIN")) return createPrivateKey(secret.value);
    const raw = decodeRaw(secret.value);
    if (raw) return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, raw.subarray(0, 32)]), format: "der", type: "pkcs8" });
  } catch {
    // fall through to the one-line error
  }
  throw keyError(secret, "private key");
}

export function parseTelnyxPublicKey(secret: SecretInput): KeyObject {
  try {
    if (secret.value.includes("PRIVATE KEY-----")) return createPublicKey(createPrivateKey(secret.value));
    if (secret.value.includes("-----BEGIN")) return createPublicKey(secret.value);
    const raw = decodeRaw(secret.value);
    if (raw) return createPublicKey({ key: Buffer.concat([spkiPrefix, raw.subarray(raw.length - 32)]), format: "der", type: "spki" });
  } catch {
    // fall through to the one-line error
  }
  throw keyError(secret, "public key");
}

/** The raw 32-byte public key, base64: what Telnyx's portal (and the telnyx library) take. */
export function rawPublicKeyBase64(key: KeyObject): string {
  const der = (key.type === "private" ? createPublicKey(key) : key).export({ format: "der", type: "spki" });
  return der.subarray(spkiPrefix.length).toString("base64");
}

function signedContent(timestamp: string | number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${timestamp}|`), body]);
}

class TelnyxSigner implements Signer {
  constructor(
    private readonly privateKeys: readonly KeyObject[],
    private readonly publicKeys: readonly KeyObject[],
  ) {}

  sign(request: SignableRequest): SignedRequest {
    const key = this.privateKeys[0];
    if (!key) throw new UsageError("signing with --scheme telnyx needs a private key");
    const signature = sign(null, signedContent(request.timestamp, request.body), key).toString("base64");
    return { url: request.url, headers: { [signatureHeader]: signature, [timestampHeader]: String(request.timestamp) } };
  }

  verify(request: ReceivedRequest, options: VerifyOptions): Verdict {
    const signature = requireHeader(request, signatureHeader);
    if (typeof signature !== "string") return signature;
    const timestamp = requireHeader(request, timestampHeader);
    if (typeof timestamp !== "string") return timestamp;
    if (!/^\d+$/.test(timestamp)) return invalid(`invalid ${timestampHeader} (expected unix seconds)`);
    const stale = checkTimestamp(Number(timestamp), options.now, options.toleranceSeconds);
    if (stale) return invalid(stale);
    // Strict padded base64, as the telnyx library decodes it: no stray length, nothing after the padding.
    const bytes = signature.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(signature) ? Buffer.from(signature, "base64") : Buffer.alloc(0);
    if (bytes.length !== 64) return invalid(`malformed ${signatureHeader} (expected a base64 Ed25519 signature)`);
    const content = signedContent(timestamp, request.body);
    return this.publicKeys.some((key) => verify(null, content, key, bytes)) ? valid : invalid("no matching signature");
  }
}

export const telnyxScheme: SignatureScheme = {
  name: "telnyx",
  summary: "Telnyx: Ed25519 over {timestamp}|{body}; sign with a private key, verify with the public key",
  headers: () => [signatureHeader, timestampHeader],
  create: (secrets, settings) => {
    if (settings.purpose === "verify") return new TelnyxSigner([], secrets.map(parseTelnyxPublicKey));
    const privateKeys = secrets.map(parseTelnyxPrivateKey);
    return new TelnyxSigner(
      privateKeys,
      privateKeys.map((key) => createPublicKey(key)),
    );
  },
  randomSecret: () => {
    const { privateKey } = generateKeyPairSync("ed25519");
    return privateKey.export({ format: "der", type: "pkcs8" }).subarray(pkcs8Prefix.length).toString("base64");
  },
  probes: () => ({
    timestamped: true,
    malformed: (headers) => ({ ...headers, [signatureHeader]: "not-a-signature" }),
  }),
};
