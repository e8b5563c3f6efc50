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

const isPlainObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

/** JSON text parsed (a tool result sent as a string), else the value as it is. */
function parsedJson(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

/**
 * Where `actual` departs from a partial expectation, one finding per differing leaf with its full path
 * (`result.reservation.status: expected "confirmed", got "pending"`): an object matches when each field it
 * names does (fields it leaves out are free), a matcher matches text, `{ "equals": … }` and anything else
 * must be equal.
 */
export function partialMismatches(expected: unknown, actual: unknown, path: string): Finding[] {
  if (isPlainObject(expected) && Object.keys(expected).length === 1 && "equals" in expected) {
    return isDeepStrictEqual(expected["equals"], actual)
      ? []
      : [{ kind: "expect", path, message: `expected exactly ${showValue(expected["equals"])}, got ${showValue(actual)}` }];
  }
  if (isMatcher(expected)) {
    const mismatch = matchText(expected, typeof actual === "string" || actual === undefined ? actual : JSON.stringify(actual));
    return mismatch ? [{ kind: "expect", path, message: mismatch }] : [];
  }
  if (isPlainObject(expected)) {
    const value = parsedJson(actual);
    if (!isPlainObject(value)) return [{ kind: "expect", path, message: `expected an object, got ${showValue(value)}` }];
    return Object.entries(expected).flatMap(([field, want]) =>
      field in value
        ? partialMismatches(want, value[field], `${path}.${field}`)
        : [{ kind: "expect", path: `${path}.${field}`, message: `expected ${showValue(want)}, got nothing` }],
    );
  }
  // Text expected of a structured value compares with its JSON.
  const shown = typeof expected === "string" && actual !== undefined && typeof actual !== "string" ? JSON.stringify(actual) : actual;
  return isDeepStrictEqual(expected, shown) ? [] : [{ kind: "expect", path, message: `expected ${showValue(expected)}, got ${showValue(actual)}` }];
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
export function compareActions(
  expected: readonly (string | { type: string; [field: string]: unknown })[],
  actual: readonly Action[],
  label: string,
): Finding[] {
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

/**
 * XML attributes are text: `equals: 5` holds for the attribute "5" (and "5.0"), `equals: true` for "true" —
 * compared by value, as the platform reads them.
 */
function sameByValue(want: unknown, value: unknown): boolean {
  if (typeof value !== "string" || value.trim() === "") return false;
  if (typeof want === "number") return Number(value) === want;
  if (typeof want === "boolean") return value.trim().toLowerCase() === String(want);
  return false;
}

/** A native expectation holds when some value at its path (in any of the documents) satisfies it. */
export function checkNative(expectations: readonly NativeExpectation[], documents: readonly (NativeDocument | undefined)[]): Finding[] {
  const findings: Finding[] = [];
  for (const expectation of expectations) {
    const values = documents.flatMap((document) => document?.select(expectation.path) ?? []);
    const want =
      "equals" in expectation ? expectation.equals : "contains" in expectation ? { contains: expectation.contains } : { matches: expectation.matches };
    if (values.some((value) => valueMismatch(want, value) === undefined || sameByValue(want, value))) continue;
    const got = values.length === 0 ? "nothing there" : values.map((value) => showValue(value)).join(", ");
    const what =
      "equals" in expectation
        ? showValue(expectation.equals)
        : "contains" in expectation
          ? `to contain ${showValue(expectation.contains)}`
          : `to match /${expectation.matches}/`;
    const byValue =
      (typeof want === "number" || typeof want === "boolean") && values.some((value) => typeof value === "string")
        ? ` (attribute text compared with ${typeof want === "number" ? "a number" : "a boolean"} by value)`
        : "";
    findings.push({ kind: "expect", path: expectation.path, message: `expected ${what}, got ${got}${byValue}` });
  }
  return findings;
}
