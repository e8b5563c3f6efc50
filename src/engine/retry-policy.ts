/**
 * When a voice platform retries a webhook, and how long it waits (README: Platforms and caller scripts and the delivery-faults
 * issue): connection errors, timeouts, 5xx, 408 and 429 are retried with exponential backoff and
 * jitter, Retry-After is honoured, 410 stops retrying, other 4xx are final.
 */
import { maxTimerMs } from "../core/limits.js";
import type { Random } from "../core/random.js";

export interface RetryPolicy {
  timeoutMs: number;
  /** Retries after the first attempt. */
  retries: number;
  /** Base delay of the exponential backoff. */
  backoffMs: number;
  /** A fixed schedule (delay before retry 1, 2, …) instead of exponential backoff. */
  scheduleMs?: readonly number[];
  /** Multiplies every wait (backoff, schedule, Retry-After): compresses long schedules for tests. */
  timeScale: number;
}

export interface Profile {
  timeoutMs: number;
  retries: number;
  backoffMs: number;
  scheduleMs?: readonly number[];
}

const minute = 60_000;
const hour = 60 * minute;

/** Field-observed policies (README: Platforms and caller scripts). */
export const profiles: Readonly<Record<string, Profile>> = {
  // A 15 s read timeout, 1 retry.
  twilio: { timeoutMs: 15_000, retries: 1, backoffMs: 0 },
  // 5 s for the answer, 2 retries.
  vonage: { timeoutMs: 5_000, retries: 2, backoffMs: 1_000 },
  // 30 s, up to 3 attempts (no ordering guarantee: add --reorder).
  telnyx: { timeoutMs: 30_000, retries: 2, backoffMs: 1_000 },
  retell: { timeoutMs: 10_000, retries: 3, backoffMs: 1_000 },
  vapi: { timeoutMs: 20_000, retries: 0, backoffMs: 0 },
  // The Standard Webhooks schedule: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h.
  standard: {
    timeoutMs: 15_000,
    retries: 9,
    backoffMs: 5_000,
    scheduleMs: [5_000, 5 * minute, 30 * minute, 2 * hour, 5 * hour, 10 * hour, 14 * hour, 20 * hour, 24 * hour],
  },
};
export const profileNames = Object.keys(profiles);

export type AttemptOutcome = { kind: "response"; status: number; headers: Readonly<Record<string, string>> } | { kind: "timeout" | "unreachable" | "network" };

export type RetryDecision = { retry: false; reason?: string } | { retry: true; retryAfterMs?: number };

/** Seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

export function classifyAttempt(outcome: AttemptOutcome, nowMs: number): RetryDecision {
  if (outcome.kind !== "response") return { retry: true };
  const { status } = outcome;
  if (status === 410) return { retry: false, reason: "410 Gone: the platform stops retrying" };
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(outcome.headers["retry-after"], nowMs);
    return retryAfterMs === undefined ? { retry: true } : { retry: true, retryAfterMs };
  }
  return { retry: false };
}

/** The wait before retry number `retry` (1-based): Retry-After wins, then the schedule, then backoff with jitter. */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: Random, retryAfterMs?: number): number {
  return Math.min(maxTimerMs, unboundedRetryDelayMs(policy, retry, random, retryAfterMs));
}

// A Retry-After or a scaled schedule past what a timer can wait would fire at once: cap it (issue 12, item 2).
function unboundedRetryDelayMs(policy: RetryPolicy, retry: number, random: Random, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined) return Math.round(retryAfterMs * policy.timeScale);
  const scheduled = policy.scheduleMs?.[retry - 1];
  if (scheduled !== undefined) return Math.round(scheduled * policy.timeScale);
  // Exponential backoff with "equal jitter": half fixed, half random, so retries from many calls spread out.
  const exponential = policy.backoffMs * 2 ** (retry - 1);
  return Math.round((exponential / 2 + random.next() * (exponential / 2)) * policy.timeScale);
}

export interface PolicySettings {
  timeoutMs?: number | undefined;
  retries?: number | undefined;
  backoffMs?: number | undefined;
  profile?: string | undefined;
  timeScale?: number | undefined;
}

/** Explicit settings override the profile, which overrides the defaults (10 s, no retries, 500 ms). */
export function buildRetryPolicy(settings: PolicySettings): RetryPolicy {
  const profile = settings.profile ? profiles[settings.profile] : undefined;
  if (settings.profile && !profile) throw new RangeError(`unknown profile "${settings.profile}" (expected one of ${profileNames.join(", ")})`);
  return {
    timeoutMs: settings.timeoutMs ?? profile?.timeoutMs ?? 10_000,
    retries: settings.retries ?? profile?.retries ?? 0,
    backoffMs: settings.backoffMs ?? profile?.backoffMs ?? 500,
    ...(settings.backoffMs === undefined && profile?.scheduleMs && { scheduleMs: profile.scheduleMs }),
    timeScale: settings.timeScale ?? 1,
  };
}
