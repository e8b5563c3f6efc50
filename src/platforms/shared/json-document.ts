/** `expect.native` over a JSON reply: paths such as `results[0].toolCallId` or `instructions[*].type`. */
import { maxJsonDepth, tooDeepAt } from "../../files/json-file.js";
import type { NativeDocument } from "../types.js";

/**
 * A handler's reply body as JSON. One nested deeper than vwh reads anywhere is refused before it is
 * parsed: checking and diffing it would overflow the stack (issue 12, item 1).
 */
export function parseJsonBody(body: Buffer): { value: unknown } | { error: string } {
  const text = body.toString("utf8");
  // Valid JSON nested deeper than the limit needs at least two brackets per level: shorter text can't be.
  if (text.length > 2 * maxJsonDepth && tooDeepAt(text) !== undefined) return { error: `nested deeper than ${maxJsonDepth} levels` };
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `not valid JSON (${(error as Error).message})` };
  }
}

/** A quoted key's JSON escapes decoded; a bad escape (`["\\u12"]`, from a flow file) is kept as written instead of thrown. */
function unescapeKey(quoted: string): string {
  try {
    return JSON.parse(`"${quoted}"`) as string;
  } catch {
    return quoted;
  }
}

/** Splits `a.b[0]["c d"][*]` into keys, indexes and wildcards. */
export function parseJsonPath(path: string): (string | number | "*")[] {
  const segments: (string | number | "*")[] = [];
  const pattern = /\[(\d+|\*)\]|\["((?:[^"\\]|\\.)*)"\]|\.?([^.[\]]+)/gy;
  for (let match = pattern.exec(path); match; match = pattern.exec(path)) {
    if (match[1] !== undefined) segments.push(match[1] === "*" ? "*" : Number(match[1]));
    else if (match[2] !== undefined) segments.push(unescapeKey(match[2]));
    else if (match[3] !== undefined) segments.push(match[3] === "*" ? "*" : match[3]);
    if (pattern.lastIndex >= path.length) break;
  }
  return segments;
}

export function selectJson(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const segment of parseJsonPath(path)) {
    const next: unknown[] = [];
    for (const item of current) {
      if (item === null || typeof item !== "object") continue;
      if (segment === "*") next.push(...(Array.isArray(item) ? item : Object.values(item)));
      else if (Array.isArray(item)) {
        if (typeof segment === "number" && segment < item.length) next.push(item[segment]);
      } else if (Object.hasOwn(item, segment)) next.push((item as Record<string, unknown>)[String(segment)]);
    }
    current = next;
  }
  return current;
}

export function jsonDocument(value: unknown): NativeDocument {
  return { select: (path) => selectJson(value, path) };
}
