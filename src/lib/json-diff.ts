/** A readable diff of two JSON values: one line per path that differs. */
import { isDeepStrictEqual } from "node:util";
import { formatJsonPath } from "./validation.js";

function flatten(value: unknown, path: (string | number)[], into: Map<string, unknown>): void {
  if (Array.isArray(value) && value.length > 0) value.forEach((item, index) => flatten(item, [...path, index], into));
  else if (value && typeof value === "object" && !Array.isArray(value) && Object.keys(value).length > 0) {
    for (const [key, item] of Object.entries(value)) flatten(item, [...path, key], into);
  } else into.set(formatJsonPath(path) || "(root)", value);
}

const show = (value: unknown) => (value === undefined ? "(absent)" : JSON.stringify(value));

/** `["instructions[0].text: \"Hi\" → \"Hello\"", "instructions[1]: (absent) → {...}"]`, or [] when equal. */
export function diffJson(before: unknown, after: unknown, root = ""): string[] {
  if (isDeepStrictEqual(before, after)) return [];
  const left = new Map<string, unknown>();
  const right = new Map<string, unknown>();
  flatten(before, root ? [root] : [], left);
  flatten(after, root ? [root] : [], right);
  const lines: string[] = [];
  for (const path of new Set([...left.keys(), ...right.keys()])) {
    const a = left.get(path);
    const b = right.get(path);
    if (!isDeepStrictEqual(a, b)) lines.push(`${path}: ${show(a)} → ${show(b)}`);
  }
  return lines;
}
