/**
 * The expectation vocabulary shared by every platform (README: Call-flow files): text matchers, expected actions
 * (type names or partial actions whose fields may be matchers) and native-path checks.
 */
import { isDeepStrictEqual } from "node:util";
import * as z from "zod";
import { listShort, showValue, type Finding } from "../core/findings.js";
import { matchText, patternProblem } from "./matchers.js";
import { actionTypes, type Action, type NativeDocument } from "../platforms/types.js";

// Checked with the engine that runs it (src/matchers.ts, RE2), so what loads also matches in linear time.
const regexSource = z.string().superRefine((source, ctx) => {
  const problem = patternProblem(source);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const valueMatcherSchema = z.union([
  z.strictObject({ contains: z.string().describe("the field must contain this text (case-sensitive)") }),
  z.strictObject({ matches: regexSource.describe("the field must match this regular expression") }),
]);
export type ValueMatcher = z.infer<typeof valueMatcherSchema>;

export function isMatcher(value: unknown): value is ValueMatcher {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "contains" || keys[0] === "matches");
}

/** Why `actual` does not satisfy `expected` (a matcher or a literal), or undefined when it does. */
export function valueMismatch(expected: unknown, actual: unknown): string | undefined {
  if (isMatcher(expected)) return matchText(expected, actual);
  return isDeepStrictEqual(expected, actual) ? undefined : `expected ${showValue(expected)}, got ${showValue(actual)}`;
}

export const actionTypeSchema = z.enum(actionTypes);

/** An expected action: its type name, or a partial action whose fields may be matchers. */
export const actionExpectationSchema = z.union([actionTypeSchema, z.looseObject({ type: actionTypeSchema })]);
export type ActionExpectation = z.infer<typeof actionExpectationSchema>;

/** The same action types in the same order (checked for every reply in load mode: no arrays built). */
function sameTypes(expected: readonly (string | { type: string })[], actual: readonly Action[]): boolean {
  if (expected.length !== actual.length) return false;
  for (let index = 0; index < expected.length; index++) {
    const item = expected[index]!;
    if ((typeof item === "string" ? item : item.type) !== actual[index]!.type) return false;
  }
  return true;
}

/** Compares actions with the expected ones: the same types in order, then each given field. */
export function compareActions(expected: readonly (string | { type: string; [field: string]: unknown })[], actual: readonly Action[], label: string): Finding[] {
  if (!sameTypes(expected, actual)) {
    const expectedTypes = expected.map((item) => (typeof item === "string" ? item : item.type));
    return [{ kind: "expect", path: label, message: `expected [${listShort(expectedTypes)}], got [${listShort(actual.map((action) => action.type))}]` }];
  }
  const findings: Finding[] = [];
  for (let index = 0; index < expected.length; index++) {
    const item = expected[index]!;
    if (typeof item === "string") continue;
    const action = actual[index]!;
    for (const [field, want] of Object.entries(item)) {
      if (field === "type" || want === undefined) continue;
      const mismatch = valueMismatch(want, action[field]);
      if (mismatch) findings.push({ kind: "expect", path: `${action.path}.${field}`, message: mismatch });
    }
  }
  return findings;
}

export const nativeExpectationSchema = z.union([
  z.strictObject({ path: z.string().min(1), equals: z.unknown() }),
  z.strictObject({ path: z.string().min(1), contains: z.string() }),
  z.strictObject({ path: z.string().min(1), matches: regexSource }),
]);
export type NativeExpectation = z.infer<typeof nativeExpectationSchema>;

/** A native expectation holds when some value at its path (in any of the documents) satisfies it. */
export function checkNative(expectations: readonly NativeExpectation[], documents: readonly (NativeDocument | undefined)[]): Finding[] {
  const findings: Finding[] = [];
  for (const expectation of expectations) {
    const values = documents.flatMap((document) => document?.select(expectation.path) ?? []);
    const want = "equals" in expectation ? expectation.equals : "contains" in expectation ? { contains: expectation.contains } : { matches: expectation.matches };
    if (values.some((value) => valueMismatch(want, value) === undefined)) continue;
    const got = values.length === 0 ? "nothing there" : values.map((value) => showValue(value)).join(", ");
    const what = "equals" in expectation ? showValue(expectation.equals) : "contains" in expectation ? `to contain ${showValue(expectation.contains)}` : `to match /${expectation.matches}/`;
    findings.push({ kind: "expect", path: expectation.path, message: `expected ${what}, got ${got}` });
  }
  return findings;
}
