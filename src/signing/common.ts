/** Pieces every scheme shares: constant-time comparison, the timestamp window, secret checks. */
import { timingSafeEqual } from "node:crypto";
import { UsageError } from "../core/errors.js";
import type { ReceivedRequest, SecretInput, Verdict } from "./types.js";

/** Constant-time comparison; unequal lengths are unequal without looking at the content. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** True if any candidate matches any expected value; every pair is compared, so timing reveals nothing. */
export function anyMatches(expected: readonly Buffer[], candidates: readonly Buffer[]): boolean {
  let matched = false;
  for (const want of expected) for (const given of candidates) matched = constantTimeEqual(want, given) || matched;
  return matched;
}

/**
 * Compares signatures as the text they are sent as, the way the official libraries do (issue 12,
 * item 10): decoding first would accept upper-case hex, bits or characters after base64 padding and
 * other non-canonical spellings of the right bytes.
 */
export function anyTextMatches(expected: readonly string[], candidates: readonly string[]): boolean {
  return anyMatches(
    expected.map((text) => Buffer.from(text)),
    candidates.map((text) => Buffer.from(text)),
  );
}

/** The age check shared by timestamped schemes, with the numbers in the reason. */
export function checkTimestamp(timestamp: number, now: number, toleranceSeconds: number): string | undefined {
  const age = Math.round(now - timestamp);
  if (age > toleranceSeconds) return `timestamp too old (${age} s > ${toleranceSeconds} s tolerance)`;
  if (-age > toleranceSeconds) return `timestamp too far in the future (${-age} s > ${toleranceSeconds} s tolerance)`;
  return undefined;
}

/** The header's value, or a verdict naming it as missing. */
export function requireHeader(request: ReceivedRequest, name: string): string | Verdict {
  const value = request.headers[name];
  return value === undefined || value === "" ? { valid: false, reason: `missing header ${name}` } : value;
}

export function requireNonEmpty(secret: SecretInput, what: string): string {
  if (secret.value.trim() === "") throw new UsageError(`secret ${secret.source} is empty: expected ${what}`);
  return secret.value;
}

export const invalid = (reason: string): Verdict => ({ valid: false, reason });
export const valid: Verdict = { valid: true };
