/**
 * Turning zod issues and JSON syntax errors into one readable line each: the JSON path (or
 * line:column) and what was expected. No raw ZodError ever reaches the user.
 */
import type * as z from "zod";
import { redactSecrets } from "../core/secrets.js";

/** `["events", 1, "payload", "text"]` → `events[1].payload.text`. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else {
      const key = String(segment);
      out += /^[A-Za-z_$][\w$]*$/.test(key) ? (out ? `.${key}` : key) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  // Masked before it is cut: a cut secret would no longer be recognised.
  const text = redactSecrets(JSON.stringify(value));
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

function describeExpected(expected: string): string {
  return expected === "array" ? "a list" : expected === "object" ? "an object" : `a ${expected}`;
}

/** The reason part of one zod issue, without its path. */
export function describeIssue(issue: z.core.$ZodIssue): string {
  const input = "input" in issue ? issue.input : undefined;
  switch (issue.code) {
    case "invalid_type":
      if (!issue.message.startsWith("Invalid input")) return issue.message; // a schema's own wording
      if (input === undefined) return `required (${describeExpected(issue.expected)})`;
      return `expected ${describeExpected(issue.expected)}, got ${describeValue(input)}`;
    case "invalid_union":
      if ("note" in issue && issue.note === "No matching discriminator") {
        const { options = [], discriminator = "type" } = issue as { options?: unknown[]; discriminator?: string };
        const value = typeof input === "object" && input !== null ? (input as Record<string, unknown>)[discriminator] : input;
        return `unknown ${discriminator} ${describeValue(value)} (expected one of ${options.join(", ")})`;
      }
      return issue.message === "Invalid input" ? `unexpected value ${describeValue(input)}` : issue.message;
    case "invalid_value":
      return `expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`}, got ${describeValue(input)}`;
    case "unrecognized_keys":
      return `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => JSON.stringify(k)).join(", ")}`;
    case "too_small": {
      const what = issue.origin === "string" ? "length" : issue.origin === "array" ? "number of items" : "value";
      return `expected ${what} ${issue.inclusive === false ? ">" : ">="} ${String(issue.minimum)}, got ${describeValue(input)}`;
    }
    case "too_big": {
      const what = issue.origin === "string" ? "length" : issue.origin === "array" ? "number of items" : "value";
      return `expected ${what} ${issue.inclusive === false ? "<" : "<="} ${String(issue.maximum)}`;
    }
    case "not_multiple_of":
      return `expected a multiple of ${String(issue.divisor)}, got ${describeValue(input)}`;
    case "invalid_format":
      return issue.message.startsWith("Invalid") ? `expected ${issue.format}, got ${describeValue(input)}` : `${issue.message}, got ${describeValue(input)}`;
    case "custom":
      // A refinement of a primitive (a flag, a field) can quote it; one of an object carries its own wording.
      return input !== undefined && typeof input !== "object" && issue.message.startsWith("expected")
        ? `${issue.message}, got ${describeValue(input)}`
        : issue.message;
    default:
      return issue.message;
  }
}

export interface Problem {
  /** JSON path such as `events[1].expect.instructions[0]`; empty for the document itself. */
  path: string;
  rawPath: readonly PropertyKey[];
  message: string;
}

/**
 * A union that failed on every branch reports every branch's issues; the useful ones come from the
 * branch whose shape matched the input (a string for a type name, an object for a partial
 * instruction), so descend into it and re-root its paths.
 */
function flattenIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== "invalid_union" || issue.errors.length === 0) return [issue];
  const atRoot = (branch: z.core.$ZodIssue[], code: string) => branch.some((sub) => sub.code === code && sub.path.length === 0);
  let matchingShape = issue.errors.filter((branch) => !atRoot(branch, "invalid_type"));
  // An object given where an enum or an object schema would do: the object branch says more.
  const input = (issue as { input?: unknown }).input;
  if (matchingShape.length > 1 && typeof input === "object" && input !== null) {
    matchingShape = matchingShape.filter((branch) => !atRoot(branch, "invalid_value"));
  }
  const chosen = matchingShape.length === 1 ? matchingShape[0]! : undefined;
  if (!chosen) return [issue];
  return chosen.flatMap((sub) => flattenIssue({ ...sub, path: [...issue.path, ...sub.path] } as z.core.$ZodIssue));
}

export function issuesToProblems(error: z.ZodError): Problem[] {
  return error.issues.flatMap(flattenIssue).map((issue) => ({
    path: formatJsonPath(issue.path),
    rawPath: issue.path,
    message: describeIssue(issue),
  }));
}

/** `path: reason` — or just the reason at the document root. */
export function formatProblem(problem: { path: string; message: string }): string {
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}
