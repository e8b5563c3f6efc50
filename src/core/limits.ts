/**
 * Bounds on every time-like number vwh accepts (issue 12, item 2), so that whatever validates also
 * runs: `after_ms: 8.64e15` used to pass validation and then fail with "Invalid time value".
 */

/** The longest delay a Node.js timer can wait (2^31 − 1 ms, about 24.8 days); longer ones fire at once. */
export const maxTimerMs = 2_147_483_647;

/** 9999-12-31T23:59:59Z: the last second an RFC 3339 timestamp can name. */
export const maxUnixSeconds = 253_402_300_799;

/** Ten years: a signature tolerance beyond this is a typo, not a policy. */
export const maxToleranceSeconds = 315_360_000;

/** A caller script's call over this many webhooks fails as a loop (--max-hops). */
export const defaultMaxHops = 50;
