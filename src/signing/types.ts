/** The interface every signature scheme implements (SPEC §3). */

/** What the platform signs: the delivery's id and time, and the exact body bytes. */
export interface SignableRequest {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  body: Buffer;
  method: string;
  url: string;
}

/** A received request: header names lower-case. */
export interface ReceivedRequest {
  headers: Readonly<Record<string, string | undefined>>;
  body: Buffer;
  method: string;
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

export interface Signer {
  sign(request: SignableRequest): Record<string, string>;
  verify(request: ReceivedRequest, options: VerifyOptions): Verdict;
}

export interface SignatureScheme {
  name: string;
  summary: string;
  /** Header names that carry signature material (kept in recordings, stripped by probes). */
  headers: readonly string[];
  /** Validates the secrets (throwing a UsageError that never quotes them) and returns a signer. */
  create(secrets: readonly SecretInput[]): Signer;
}
