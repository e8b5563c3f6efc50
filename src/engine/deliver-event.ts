/**
 * Delivering one webhook as the platform would (retries, a duplicate, a dead letter when it gives up) and checking its reply.
 */
import { checkReply } from "../checks/reply.js";
import { compareReplies } from "../checks/compare-replies.js";
import type { Finding } from "../core/findings.js";
import type { DeadLetter } from "../files/dead-letters.js";
import { deliver, type DeliveryResult } from "../transport/undici.js";
import { type LoadedFlow } from "../files/call-flow.js";
import { builtRequest, type PlannedEvent } from "./expand-flow.js";
import type { ParsedReply, WebhookRequest } from "../platforms/types.js";
import { diffJson } from "../lib/json-diff.js";
import { classifyAttempt, retryDelayMs } from "./retry-policy.js";
import { type EventResult } from "./results.js";
import { exchangeOf } from "./exchange.js";
import { type SimulationOptions } from "./options.js";
import { type DeliveryTarget, forwardedHeaders, prepareDelivery } from "./address.js";
import { type RunContext, throwIfStopped } from "./context.js";

export interface Delivered {
  outcome: DeliveryResult;
  attempts: number;
  /** The last attempt failed in a way the platform retries, and no retries were left. */
  exhausted: boolean;
  /** Why the platform stopped retrying early (410). */
  stopReason: string | undefined;
}

/** Sends one attempt; the caller checks `stop` once it settles (no async frame of its own: load mode sends millions). */
export function attempt(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, number: number): Promise<DeliveryResult> {
  const request = prepareDelivery(planned, deliveryTarget(context, loaded.platform.id), number, context.now());
  return (context.options.transport ?? deliver)({
    url: request.url,
    method: planned.method,
    headers: request.headers,
    body: planned.body,
    timeoutMs: context.options.policy.timeoutMs,
    dispatcher: context.options.dispatcher,
    stop: context.options.stop,
    now: context.now,
  });
}

/** What attempt `number` settled: the delivery, or (with retries left) the wait in ms before the next attempt. */
export function afterAttempt(outcome: DeliveryResult, number: number, context: RunContext): Delivered | number {
  // Below 400 no platform retries (classifyAttempt says so too): the common case, without its objects.
  if (outcome.ok && outcome.status < 400) return { outcome, attempts: number, exhausted: false, stopReason: undefined };
  const decision = classifyAttempt(outcome.ok ? { kind: "response", status: outcome.status, headers: outcome.headers } : { kind: outcome.kind }, context.now());
  if (!decision.retry) return { outcome, attempts: number, exhausted: false, stopReason: decision.reason };
  const { policy } = context.options;
  if (number > policy.retries) return { outcome, attempts: number, exhausted: true, stopReason: undefined };
  return retryDelayMs(policy, number, context.jitter, decision.retryAfterMs);
}

/** Attempts 2, 3 … of a delivery (identical bytes and id; a fresh timestamp, signature and attempt number), each after its wait. */
export async function retry(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, firstWaitMs: number): Promise<Delivered> {
  let waitMs = firstWaitMs;
  for (let number = 2; ; number++) {
    await context.wait(waitMs);
    throwIfStopped(context.options.stop);
    const outcome = await attempt(planned, loaded, context, number);
    throwIfStopped(context.options.stop);
    const next = afterAttempt(outcome, number, context);
    if (typeof next !== "number") return next;
    waitMs = next;
  }
}

export function describeFailure(outcome: DeliveryResult): string {
  return outcome.ok ? `status ${outcome.status}` : outcome.message;
}

/** A duplicate must be accepted and, where the platform waits, answered with the same instructions. */
/** A duplicate must be accepted and, where the platform acts on the reply, answered with the same actions. */
export async function checkDuplicate(
  planned: PlannedEvent,
  loaded: LoadedFlow,
  context: RunContext,
  number: number,
  first: { parsed: ParsedReply; request: WebhookRequest } | undefined,
): Promise<{ result: EventResult["duplicate"]; failures: Finding[] }> {
  const outcome = await attempt(planned, loaded, context, number);
  throwIfStopped(context.options.stop);
  const failures: Finding[] = [];
  if (!outcome.ok) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): ${outcome.message}` });
    return { result: { attempt: number, status: undefined, passed: false }, failures };
  }
  if (outcome.status < 200 || outcome.status >= 300) {
    failures.push({ kind: "idempotency", message: `duplicate delivery (attempt ${number}): expected 2xx, got ${outcome.status}` });
  } else if (first !== undefined) {
    const second = loaded.platform.parseReply(
      { status: outcome.status, headers: outcome.headers, body: outcome.body },
      { eventType: planned.eventType, waits: true, expectsActions: true, request: first.request },
    );
    const changes = diffJson(first.parsed.actions, second.actions, "instructions");
    if (changes.length) {
      failures.push({
        kind: "idempotency",
        message: `duplicate delivery (attempt ${number}) got different instructions — not idempotent on event_id:\n${changes.map((line) => `  ${line}`).join("\n")}`,
      });
    }
  }
  return { result: { attempt: number, status: outcome.status, passed: failures.length === 0 }, failures };
}

export function deadLetterEntry(planned: PlannedEvent, loaded: LoadedFlow, delivered: Delivered, options: SimulationOptions, nowMs: number): DeadLetter {
  const utf8 = planned.body.toString("utf8");
  const isUtf8 = Buffer.from(utf8).equals(planned.body);
  const deadAt = new Date(nowMs).toISOString();
  return {
    flow: loaded.file,
    event_type: planned.eventType,
    event_id: planned.eventId,
    call_id: planned.callId,
    sequence: planned.sequence,
    attempts: delivered.attempts,
    last_error: describeFailure(delivered.outcome),
    dead_at: deadAt,
    raw: {
      method: planned.method,
      path: `${options.target.pathname}${options.target.search}`,
      headers: { ...forwardedHeaders(planned, { ...options, keepSignatures: false }), "content-type": planned.contentType },
      body: isUtf8 ? utf8 : planned.body.toString("base64"),
      ...(isUtf8 ? {} : { body_encoding: "base64" as const }),
      received_at: deadAt,
    },
    ...(planned.expect && { expect: planned.expect }),
  };
}

export interface DeliveredEvent {
  result: EventResult;
  /** The reply as the platform read it, when there was a successful reply to read. */
  parsed: ParsedReply | undefined;
  outcome: DeliveryResult;
}

/** Delivers one webhook (retries, dead letters, a duplicate) and checks its reply. */
export async function deliverAndCheck(
  planned: PlannedEvent,
  loaded: LoadedFlow,
  duplicate: boolean,
  context: RunContext,
  step?: number,
): Promise<DeliveredEvent> {
  // Kept small on purpose: an async function's frame holds all its locals, and load mode runs this
  // for every webhook. The first attempt settles nearly every delivery; only a retry enters the loop.
  const outcome = await attempt(planned, loaded, context, 1);
  throwIfStopped(context.options.stop);
  const first = afterAttempt(outcome, 1, context);
  const delivered = typeof first === "number" ? await retry(planned, loaded, context, first) : first;
  const checked = checkDelivered(planned, loaded, context, delivered, step);
  const deadLetter = delivered.exhausted && context.options.deadLetter !== undefined;
  const sendDuplicate = duplicate && accepted(delivered.outcome);
  return deadLetter || sendDuplicate ? finishDelivered(planned, loaded, { deadLetter, sendDuplicate }, context, delivered, checked) : checked;
}

export const accepted = (outcome: DeliveryResult) => outcome.ok && outcome.status >= 200 && outcome.status < 300;

/** The event's result from its delivery: the reply checked, how delivery went. */
export function checkDelivered(planned: PlannedEvent, loaded: LoadedFlow, context: RunContext, delivered: Delivered, step: number | undefined): DeliveredEvent {
  const { options } = context;
  const { outcome } = delivered;
  const result: EventResult = {
    index: planned.index,
    sequence: planned.sequence,
    eventType: planned.eventType,
    eventId: planned.eventId,
    status: outcome.ok ? outcome.status : undefined,
    latencyMs: outcome.ok || outcome.kind === "timeout" ? outcome.latencyMs : undefined,
    attempts: delivered.attempts,
    passed: false,
    failures: [],
    warnings: [],
    instructionTypes: [],
    deadLettered: false,
    step,
    duplicate: undefined,
  };
  let parsed: ParsedReply | undefined;
  if (!outcome.ok) {
    result.failures.push({ kind: outcome.kind, message: outcome.message });
    result.errorCode = outcome.code ?? outcome.kind;
  } else {
    const check = checkReply({
      platform: loaded.platform,
      eventType: planned.eventType,
      request: builtRequest(planned),
      expect: planned.expect,
      status: outcome.status,
      headers: outcome.headers,
      body: outcome.body,
      latencyMs: outcome.latencyMs,
      budgetMs: options.budgetMs,
      strictLatency: options.strictLatency,
    });
    result.failures = check.failures;
    result.warnings = check.warnings;
    parsed = check.parsed;
    if (parsed) result.instructionTypes = parsed.actions.map((action) => action.type);
    if (options.compareReplies) {
      if (planned.origin.kind === "recorded" && planned.origin.response) result.failures.push(...compareReplies(planned.origin.response, outcome));
      else result.warnings.push({ kind: "snapshot", message: "no recorded reply to compare with (recorded before vwh kept replies)" });
    }
  }
  if (delivered.stopReason) result.failures.push({ kind: "delivery", message: delivered.stopReason });
  if (delivered.exhausted && delivered.attempts > 1) result.failures.push({ kind: "delivery", message: `gave up after ${delivered.attempts} attempts` });
  const ignored = loaded.platform.events[planned.eventType]?.replyIgnored;
  if (ignored && !options.strictEvents && planned.expect?.status === undefined) demoteIgnored(result, planned, loaded.platform.id, ignored.setting);
  result.passed = result.failures.length === 0;
  if ((!result.passed || options.verbose) && options.evidence !== false)
    result.exchange = exchangeOf(planned, deliveryTarget(context, loaded.platform.id), outcome);
  return { result, parsed, outcome };
}

/** What a failed delivery of a webhook whose reply the platform ignores is not: a reason to fail the call. */
const demotedKinds: ReadonlySet<Finding["kind"]> = new Set(["status", "timeout", "network", "delivery", "reply", "schema", "rule"]);

function demoteIgnored(result: EventResult, planned: PlannedEvent, platformId: string, setting: string): void {
  const url = planned.origin.kind === "built" ? planned.origin.request.url : undefined;
  const where = url ? ` at ${url.origin}${url.pathname}` : "";
  const note = `${platformId} ignores the reply to ${planned.eventType}${where}, so the call goes on (set ${setting} to the handler's URL for it; --strict-events, or an expected status, fails on it)`;
  const kept: Finding[] = [];
  for (const finding of result.failures) {
    if (demotedKinds.has(finding.kind)) result.warnings.push({ ...finding, message: `${finding.message} — ${note}` });
    else kept.push(finding);
  }
  result.failures = kept;
}

/** What waits on more I/O after the check (deliverAndCheck decides which): the dead letter of an exhausted event, the duplicate delivery. */
async function finishDelivered(
  planned: PlannedEvent,
  loaded: LoadedFlow,
  then: { deadLetter: boolean; sendDuplicate: boolean },
  context: RunContext,
  delivered: Delivered,
  checked: DeliveredEvent,
): Promise<DeliveredEvent> {
  const { options } = context;
  const { result, parsed, outcome } = checked;
  if (then.deadLetter) {
    await options.deadLetter!(deadLetterEntry(planned, loaded, delivered, options, context.now()));
    result.deadLettered = true;
  }
  if (then.sendDuplicate) {
    const readable = parsed && !parsed.failures.some((finding) => finding.kind === "schema" || finding.kind === "reply") ? parsed : undefined;
    const second = await checkDuplicate(
      planned,
      loaded,
      context,
      delivered.attempts + 1,
      readable && { parsed: readable, request: builtRequest(planned) ?? placeholderRequest() },
    );
    result.duplicate = second.result;
    result.failures.push(...second.failures);
  }
  result.passed = result.failures.length === 0;
  if (!result.passed && options.evidence !== false) result.exchange ??= exchangeOf(planned, deliveryTarget(context, loaded.platform.id), outcome);
  return checked;
}

/** What the reply to a recorded request is read against, as checkReply read the first one: only its URL is ever used (relative URLs in a document). */
export function placeholderRequest(): WebhookRequest {
  return { method: "POST", url: new URL("http://recorded.invalid/"), body: Buffer.alloc(0), contentType: undefined, headers: {} };
}

/** How a platform's webhooks are signed and addressed in this run: its own scheme, else the run's. */
export function deliveryTarget(context: RunContext, platformId: string): DeliveryTarget {
  let target = context.targets.get(platformId);
  if (target === undefined) {
    const signing = context.options.platformSigning?.[platformId];
    target = signing ? { ...context.options, ...signing } : context.options;
    context.targets.set(platformId, target);
  }
  return target;
}
