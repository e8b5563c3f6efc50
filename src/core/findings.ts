/** What a check found wrong (or worth a warning) about one webhook's delivery, reply or turn. */
export type FindingKind =
  | "status"
  | "reply"
  | "schema"
  | "rule"
  | "expect"
  | "latency"
  /** A reply slower than the run's latency budget (--budget): a warning, or a failure with --strict-latency. */
  | "budget"
  | "timeout"
  | "network"
  | "unreachable"
  | "delivery"
  | "idempotency"
  /** A reactive call that took more than --max-hops webhooks. */
  | "loop"
  /** A caller script that could not be played as written (the call ended with steps left). */
  | "script"
  /** A reply that differs from the one recorded (--compare-replies). */
  | "snapshot"
  /** A media-stream message that breaks the platform's message set, or a stream that could not run. */
  | "media";

export interface Finding {
  kind: FindingKind;
  /** Where in the reply: a JSON path (`instructions[0].text`) or a native element path (`Response/Gather[1]@input`). */
  path?: string;
  message: string;
}

/** A value as a finding quotes it: JSON, cut to 80 characters. */
export function showValue(value: unknown): string {
  const text = JSON.stringify(value) ?? "nothing";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Action types as a report line shows them: a document of thousands of verbs is cut to the first `max`, with the count. */
export function listShort(items: readonly string[], max = 30): string {
  return items.length <= max ? items.join(", ") : `${items.slice(0, max).join(", ")}, … (${items.length} in all)`;
}
