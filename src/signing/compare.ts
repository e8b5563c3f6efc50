import { timingSafeEqual } from "node:crypto";

/** Constant-time comparison; unequal lengths are unequal without looking at the content. */
export function constantTimeEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The age check shared by timestamped schemes, with the numbers in the reason. */
export function checkTimestamp(timestamp: number, now: number, toleranceSeconds: number): string | undefined {
  const age = now - timestamp;
  if (age > toleranceSeconds) return `timestamp too old (${age} s > ${toleranceSeconds} s tolerance)`;
  if (-age > toleranceSeconds) return `timestamp too far in the future (${-age} s > ${toleranceSeconds} s tolerance)`;
  return undefined;
}
