/**
 * Checking a handler's reply to one webhook: status, the platform's grammar and rules (through its
 * reply parser), the flow's expectations (README: Call-flow files) and latency. Pure: takes the response, returns findings.
 */
import { checkNative, compareActions } from "./expectations.js";
import type { Finding } from "../core/findings.js";
import { type Expectation } from "../files/expectation-schema.js";
import type { ParsedReply, Platform, WebhookRequest } from "../platforms/types.js";

export type { Finding, FindingKind } from "../core/findings.js";

export interface ReplyCheckInput {
  platform: Platform;
  eventType: string;
  /** The request answered; absent for recorded requests vwh did not build. */
  request?: WebhookRequest | undefined;
  expect: Expectation | undefined;
  status: number;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
  latencyMs: number;
  budgetMs: number;
  strictLatency: boolean;
}

export interface ReplyCheck {
  failures: Finding[];
  warnings: Finding[];
  /** The reply as the platform read it, when it was a success the platform acts on. */
  parsed: ParsedReply | undefined;
}

type StatusExpectation = Expectation["status"];

export function statusMatches(status: number, expected: StatusExpectation): boolean {
  if (expected === undefined) return status >= 200 && status < 300;
  return Array.isArray(expected) ? expected.includes(status) : status === expected;
}

export function describeStatus(expected: StatusExpectation): string {
  if (expected === undefined) return "2xx";
  return Array.isArray(expected) ? expected.join(" or ") : String(expected);
}

export function latencyFindings(
  latencyMs: number,
  maxLatencyMs: number | undefined,
  budgetMs: number,
  strictLatency: boolean,
): { failures: readonly Finding[]; warnings: readonly Finding[] } {
  const latency = Math.round(latencyMs);
  if (maxLatencyMs !== undefined && latencyMs > maxLatencyMs) {
    return { failures: [{ kind: "latency", message: `latency ${latency} ms over max_latency_ms ${maxLatencyMs} ms` }], warnings: [] };
  }
  if (latencyMs > budgetMs) {
    const finding: Finding = { kind: "budget", message: `latency ${latency} ms over budget ${budgetMs} ms` };
    return strictLatency ? { failures: [finding], warnings: [] } : { failures: [], warnings: [finding] };
  }
  return noLatencyFindings;
}

// Shared by every reply on time (load mode checks millions): callers only read it.
const noLatencyFindings: { failures: readonly Finding[]; warnings: readonly Finding[] } = Object.freeze({
  failures: Object.freeze([]),
  warnings: Object.freeze([]),
});

const placeholderRequest = (): WebhookRequest => ({
  method: "POST",
  url: new URL("http://recorded.invalid/"),
  body: Buffer.alloc(0),
  contentType: undefined,
  headers: {},
});

export function checkReply(input: ReplyCheckInput): ReplyCheck {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  let parsed: ParsedReply | undefined;
  const { expect, platform } = input;

  // A redirect the platform follows is not the handler's answer: the request is sent again (by the driver).
  const followed = platform.redirects?.statuses.includes(input.status) === true && input.headers["location"] !== undefined;
  if (followed) return { failures, warnings, parsed: { native: undefined, actions: [], failures: [], warnings: [] } };
  if (!statusMatches(input.status, expect?.status)) {
    // Why a 401/403 happened is said once per run (engine/auth-hint.ts), not under every event; other statuses a platform explains here.
    const hint = input.status === 401 || input.status === 403 ? undefined : platform.explainStatus?.(input.status);
    failures.push({ kind: "status", message: `expected status ${describeStatus(expect?.status)}, got ${input.status}${hint ? ` — ${hint}` : ""}` });
  }
  const success = input.status >= 200 && input.status < 300;
  const expected = expect?.instructions ?? expect?.actions;
  const expectsActions = expected !== undefined || expect?.native !== undefined;
  // An expectation of no actions at all lifts the platform's "at least one" rule.
  const waits = (platform.events[input.eventType]?.waits ?? false) && expected?.length !== 0;

  if (success && (waits || expectsActions || expect?.ack_only)) {
    parsed = platform.parseReply(
      { status: input.status, headers: input.headers, body: input.body },
      { eventType: input.eventType, waits, expectsActions, request: input.request ?? placeholderRequest() },
    );
    if (expect?.ack_only && !waits && expected === undefined) {
      // An ack's body is ignored by the platform; ack_only asserts the handler did not try to instruct (native checks still run).
      if (parsed.actions.length > 0)
        failures.push({ kind: "expect", path: "instructions", message: `expected an ack without instructions, got ${parsed.actions.length}` });
    } else {
      failures.push(...parsed.failures);
      warnings.push(...parsed.warnings);
      const schemaFailed = parsed.failures.some((finding) => finding.kind === "schema" || finding.kind === "reply");
      if (expected && !schemaFailed)
        failures.push(...compareActions(expected as readonly (string | { type: string })[], parsed.actions, expect?.instructions ? "instructions" : "actions"));
    }
    if (expect?.native) failures.push(...checkNative(expect.native, [parsed.native]));
  }

  const deadlineMs = platform.events[input.eventType]?.deadlineMs;
  if (deadlineMs !== undefined && input.latencyMs > deadlineMs) {
    const late: Finding = {
      kind: "latency",
      message: `latency ${Math.round(input.latencyMs)} ms over the platform's fixed ${deadlineMs} ms for ${input.eventType}: it gave up on the reply`,
    };
    failures.push(late);
    // The platform acts on what it read: a late reply is no reply.
    parsed?.failures.push(late);
  }
  const latency = latencyFindings(input.latencyMs, expect?.max_latency_ms, input.budgetMs, input.strictLatency);
  failures.push(...latency.failures);
  warnings.push(...latency.warnings);
  return { failures, warnings, parsed };
}
