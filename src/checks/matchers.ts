/**
 * Text matching of expectations (README: Call-flow files, Platforms and caller scripts: `{ "contains": … }`, `{ "matches": regex }`, and
 * `native` checks).
 *
 * Regular expressions run on RE2JS, a pure-JavaScript port of RE2 whose matching time is linear in
 * the input: a catastrophic pattern such as `^(.+)+!$` hung `vwh simulate` for good on JavaScript's
 * backtracking RegExp (issue 12, item 3). RE2 refuses what it cannot run in linear time
 * (backreferences, lookaround), and the same engine validates patterns when a flow is loaded, so an
 * unsupported pattern is a load error naming its JSON path, never a surprise mid-run.
 */
import type { RE2JS } from "re2js";
import { re2 } from "../lib/lazy-modules.js";
import { showValue } from "../core/findings.js";

export type TextMatcher = { contains: string } | { matches: string };

// A flow reuses its patterns on every webhook and every copy of a call (load mode).
const compiled = new Map<string, RE2JS>();

/** The compiled pattern, or why RE2 refuses it. */
export function compilePattern(source: string): { pattern: RE2JS } | { error: string } {
  const cached = compiled.get(source);
  if (cached) return { pattern: cached };
  const { RE2JS, RE2JSException } = re2();
  try {
    const pattern = RE2JS.compile(source);
    compiled.set(source, pattern);
    return { pattern };
  } catch (error) {
    if (error instanceof RE2JSException) return { error: error.message };
    throw error;
  }
}

/** Why a pattern cannot be used, for flow validation; undefined when RE2 accepts it. */
export function patternProblem(source: string): string | undefined {
  const result = compilePattern(source);
  return "error" in result ? `expected a regular expression RE2 can run in linear time (${result.error})` : undefined;
}

/** Undefined when `actual` satisfies the matcher, else what was expected and what came. */
export function matchText(matcher: TextMatcher, actual: unknown): string | undefined {
  if (typeof actual !== "string") return `expected text, got ${showValue(actual)}`;
  if ("contains" in matcher)
    return actual.includes(matcher.contains) ? undefined : `expected to contain ${showValue(matcher.contains)}, got ${showValue(actual)}`;
  const result = compilePattern(matcher.matches);
  // Flows are validated on load, so this is a matcher built in code with a bad pattern: name it.
  if ("error" in result) return `the regular expression /${matcher.matches}/ is not usable: ${result.error}`;
  return result.pattern.matcher(actual).find() ? undefined : `expected to match /${matcher.matches}/, got ${showValue(actual)}`;
}
