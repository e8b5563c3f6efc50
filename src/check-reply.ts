/**
 * Checking a handler's reply to one event: status, instruction schema and rules (SPEC §2), the flow's
 * expectations (SPEC §4) and latency. Pure: takes the response, returns findings.
 */
import { isDeepStrictEqual } from "node:util";
import { waitsForInstructions } from "./envelope.js";
import type { Expectation } from "./flow.js";
import { checkInstructionRules, instructionReplySchema, type Instruction } from "./instructions.js";
import { maxJsonDepth, tooDeepAt } from "./json-file.js";
import { isValueMatcher, matchText } from "./matchers.js";
import { issuesToProblems } from "./validation.js";

export type FindingKind = "status" | "reply" | "schema" | "rule" | "expect" | "latency" | "timeout" | "network" | "unreachable" | "delivery" | "idempotency";

export interface Finding {
  kind: FindingKind;
  /** JSON path in the reply, when there is one (`instructions[0].text`). */
  path?: string;
  message: string;
}

export interface ReplyCheckInput {
  eventType: string;
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
  /** The parsed instructions, when the reply carried a valid list. */
  instructions: Instruction[] | undefined;
}

function statusMatches(status: number, expected: Expectation["status"]): boolean {
  if (expected === undefined) return status >= 200 && status < 300;
  return Array.isArray(expected) ? expected.includes(status) : status === expected;
}

function describeStatus(expected: Expectation["status"]): string {
  if (expected === undefined) return "2xx";
  return Array.isArray(expected) ? expected.join(" or ") : String(expected);
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? "nothing";
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function fieldMismatch(expected: unknown, actual: unknown): string | undefined {
  if (isValueMatcher(expected)) return matchText(expected, actual);
  return isDeepStrictEqual(expected, actual) ? undefined : `expected ${show(expected)}, got ${show(actual)}`;
}

/** Compares the reply's instructions with `expect.instructions`: type names, or partial objects. */
export function compareInstructions(expected: NonNullable<Expectation["instructions"]>, actual: readonly Instruction[]): Finding[] {
  const expectedTypes = expected.map((item) => (typeof item === "string" ? item : item.type));
  const actualTypes = actual.map((instruction) => instruction.type);
  if (!isDeepStrictEqual(expectedTypes, actualTypes)) {
    return [{ kind: "expect", path: "instructions", message: `expected [${expectedTypes.join(", ")}], got [${actualTypes.join(", ")}]` }];
  }
  const findings: Finding[] = [];
  expected.forEach((item, index) => {
    if (typeof item === "string") return;
    const instruction = actual[index] as unknown as Record<string, unknown>;
    for (const [field, want] of Object.entries(item)) {
      if (field === "type" || want === undefined) continue;
      const mismatch = fieldMismatch(want, instruction[field]);
      if (mismatch) findings.push({ kind: "expect", path: `instructions[${index}].${field}`, message: mismatch });
    }
  });
  return findings;
}

/** A reply body as JSON; one that nests deeper than vwh reads anywhere is refused before it is parsed. */
export function parseJsonReply(body: Buffer): { value: unknown } | { error: string } {
  const text = body.toString("utf8");
  if (tooDeepAt(text) !== undefined) return { error: `nested deeper than ${maxJsonDepth} levels` };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
}

function parseReplyBody(headers: Readonly<Record<string, string>>, body: Buffer): { value: unknown } | { error: Finding } {
  const contentType = headers["content-type"] ?? "";
  if (!/^application\/([\w.+-]+\+)?json\b/i.test(contentType)) {
    return { error: { kind: "reply", path: "content-type", message: `expected application/json, got ${contentType ? show(contentType) : "none"}` } };
  }
  const parsed = parseJsonReply(body);
  return "error" in parsed ? { error: { kind: "reply", path: "body", message: parsed.error } } : parsed;
}

export function checkReply(input: ReplyCheckInput): ReplyCheck {
  const failures: Finding[] = [];
  const warnings: Finding[] = [];
  let instructions: Instruction[] | undefined;
  const { expect } = input;

  if (!statusMatches(input.status, expect?.status)) {
    failures.push({ kind: "status", message: `expected status ${describeStatus(expect?.status)}, got ${input.status}` });
  }
  const success = input.status >= 200 && input.status < 300;
  const waits = waitsForInstructions(input.eventType) || expect?.instructions !== undefined;

  if (success && waits && input.body.length === 0) {
    failures.push({ kind: "reply", path: "body", message: `expected {"instructions": [...]}, got an empty reply (${input.status})` });
  } else if (success && waits) {
    const parsed = parseReplyBody(input.headers, input.body);
    if ("error" in parsed) failures.push(parsed.error);
    else {
      const result = instructionReplySchema.safeParse(parsed.value, { reportInput: true });
      if (!result.success) {
        for (const problem of issuesToProblems(result.error)) failures.push({ kind: "schema", path: problem.path, message: problem.message });
      } else {
        instructions = result.data.instructions;
        if (instructions.length === 0 && expect?.instructions?.length !== 0) {
          failures.push({ kind: "schema", path: "instructions", message: `expected at least one instruction: the platform waits after ${input.eventType}` });
        }
        for (const violation of checkInstructionRules(instructions)) failures.push({ kind: "rule", ...violation });
        if (expect?.instructions) failures.push(...compareInstructions(expect.instructions, instructions));
      }
    }
  } else if (success && expect?.ack_only && input.body.length > 0) {
    // An ack reply's body is ignored by the platform; ack_only asserts the handler did not try to instruct.
    const parsed = parseJsonReply(input.body);
    const value = "value" in parsed ? (parsed.value as { instructions?: unknown } | null) : undefined; // not JSON: carries no instructions
    if (Array.isArray(value?.instructions) && value.instructions.length > 0) {
      failures.push({ kind: "expect", path: "instructions", message: `expected an ack without instructions, got ${value.instructions.length}` });
    }
  }

  const latency = Math.round(input.latencyMs);
  if (expect?.max_latency_ms !== undefined && input.latencyMs > expect.max_latency_ms) {
    failures.push({ kind: "latency", message: `latency ${latency} ms over max_latency_ms ${expect.max_latency_ms} ms` });
  } else if (input.latencyMs > input.budgetMs) {
    const finding: Finding = { kind: "latency", message: `latency ${latency} ms over budget ${input.budgetMs} ms` };
    (input.strictLatency ? failures : warnings).push(finding);
  }
  return { failures, warnings, instructions };
}
