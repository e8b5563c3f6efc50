/** How Telnyx runs a call, as the driver needs it: its timings and limits, what a command may do before answer, small readers of command fields. */
/** Real-time wait for the handler's next command when nothing else is going on (settings.command_timeout_ms). */
export const defaultCommandTimeoutMs = 3000;
/** Telnyx ignores a repeated command_id on the same call (docs/platforms/telnyx.md: within 60 s). */
export const commandIdWindowMs = 60_000;
/** Commands one call takes, refused ones included; more is a handler in a loop (the API answers 429, the call fails). */
export const maxCommandsPerCall = 1000;
/** How often a quiet call looks for commands: bounds how long a finished run lingers. */
export const pollMs = 20;
/** After a webhook the handler refused, a command can still come (a slow 500 after the work), but briefly. */
export const refusedGraceMs = 200;
/** Commands a parked (unanswered) call takes; any other is refused with 90034. */
export const beforeAnswer: ReadonlySet<string> = new Set(["answer", "reject", "hangup", "transfer", "client_state_update", "bridge", "enqueue"]);

export interface Pending {
  eventType: string;
  payload: Record<string, unknown>;
}

export interface Performed {
  command: string;
  body: Record<string, unknown>;
}

export interface Gather {
  path: string;
  validDigits: string | undefined;
  maximumDigits: number | undefined;
  terminatingDigit: string | undefined;
  timeoutMs: number;
}

export const text = (value: unknown): string | undefined => (typeof value === "string" ? value : undefined);
export const count = (value: unknown): number | undefined => (typeof value === "number" && Number.isFinite(value) ? value : undefined);
