/** The interface every signature scheme implements (README: Signature schemes). */

/** What the platform signs: the delivery's id and time, and the exact body bytes. */
export interface SignableRequest {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: Buffer;
  method: string;
  url: string;
  contentType: string;
}

/** A received request: header names lower-case. */
export interface ReceivedRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
  method: string;
  /** The URL the sender addressed (schemes that sign the URL need it). */
  url: string;
}

export type Verdict = { valid: true } | { valid: false; reason: string };

export interface VerifyOptions {
  /** Unix seconds "now" (injectable, and `--at` for offline checks of old recordings). */
  now: number;
  toleranceSeconds: number;
}

/** A secret and where it came from, so errors can name it without showing it. */
export interface SecretInput {
  value: string;
  source: string;
}

export interface SignedRequest {
  headers: Record<string, string>;
  /** The URL to send to: unchanged, except for schemes that put signature material in it (Twilio's bodySHA256). */
  url: string;
}

export interface Signer {
  sign(request: SignableRequest): SignedRequest;
  verify(request: ReceivedRequest, options: VerifyOptions): Verdict;
}

/** Generic HMAC settings (README: Signature schemes, `--scheme hmac`). */
export interface HmacSettings {
  header: string;
  algorithm: "sha256" | "sha512" | "sha1";
  template: string;
  timestampHeader: string;
  idHeader: string;
  encoding: "hex" | "base64";
  prefix: string;
}

export interface SchemeSettings {
  /** Telnyx signs with a private key and verifies with a public one. */
  purpose: "sign" | "verify";
  hmac?: HmacSettings;
}

/** How a scheme's headers can be bent into the forgeries `verify-signature --url` sends. */
export interface ProbeVariants {
  /** Whether signatures carry a timestamp (stale, future and replay cases apply). */
  timestamped: boolean;
  /** False for shared secrets sent as they are (X-Vapi-Secret, bearer): body cases do not apply. */
  signsBody?: boolean;
  /** The valid signature relabelled with a version no verifier knows. */
  unknownVersion?(valid: Record<string, string>): Record<string, string>;
  /** A list with a wrong signature first and the valid one last (key rotation). */
  rotatedList?(valid: Record<string, string>, wrong: Record<string, string>): Record<string, string>;
  /** A signature header that does not parse. */
  malformed(valid: Record<string, string>): Record<string, string>;
}

export interface SignatureScheme {
  name: string;
  summary: string;
  /** Header names that carry signature material (kept in recordings, stripped by probes). */
  headers(settings: SchemeSettings): readonly string[];
  /** Validates the secrets (throwing a UsageError that never quotes them) and returns a signer. */
  create(secrets: readonly SecretInput[], settings: SchemeSettings): Signer;
  /** A fresh random secret of the scheme's form (the probe's "wrong secret"). */
  randomSecret(): string;
  /** Whether the signature covers the request URL (Twilio, Plivo, an hmac template with {url}): absent means it does not. */
  signsUrl?(settings: SchemeSettings): boolean;
  probes(settings: SchemeSettings): ProbeVariants;
}
