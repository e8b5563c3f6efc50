/** Pieces every scheme shares: constant-time comparison, the timestamp window, secret checks. */
import { timingSafeEqual } from "node:crypto";
import { UsageError } from "../errors.js";
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

