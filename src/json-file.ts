/**
 * Reading JSON input files with errors a person can act on: the file, the line:column of a syntax
 * error or the JSON path of a schema violation, and what was expected.
 */
import { readFile } from "node:fs/promises";
import { findNodeAtLocation, parseTree, printParseErrorCode, type ParseError } from "jsonc-parser";
import type * as z from "zod";
import { InputError } from "./errors.js";
import { formatProblem, issuesToProblems, type Problem } from "./validation.js";

function lineColumn(text: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < text.length; i++) {
    if (text.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${offset - lineStart + 1}`;
}

const syntaxReasons: Record<string, string> = {
  InvalidSymbol: "unexpected character",
  InvalidNumberFormat: "invalid number",
  PropertyNameExpected: "expected a double-quoted property name",
  ValueExpected: "expected a value",
  ColonExpected: "expected ':'",
  CommaExpected: "expected ',' or a closing bracket",
  CloseBraceExpected: "expected '}'",
  CloseBracketExpected: "expected ']'",
  EndOfFileExpected: "expected the end of the file",
  InvalidCommentToken: "comments are not allowed in JSON",
  UnexpectedEndOfComment: "unterminated comment",
  UnexpectedEndOfString: "unterminated string",
  UnexpectedEndOfNumber: "unterminated number",
  InvalidUnicode: "invalid unicode escape",
  InvalidEscapeCharacter: "invalid escape character",
  InvalidCharacter: "invalid character in string",
};

/** Parses strict JSON; on failure locates the first error (JSON.parse alone does not always say where). */
export function parseJsonText(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const errors: ParseError[] = [];
    parseTree(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
    const first = errors[0];
    if (first) {
      const code = printParseErrorCode(first.error);
      throw new InputError(`${file}:${lineColumn(text, first.offset)}: invalid JSON: ${syntaxReasons[code] ?? code}`);
    }
    throw new InputError(`${file}: invalid JSON: ${(error as Error).message}`);
  }
}

export async function readTextFile(file: string, what = "file"): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new InputError(`${file}: cannot read ${what}: ${reason}`);
  }
}

/** `file:line:col: path: reason` for the first problem, with a count of the rest. */
export function describeProblems(file: string, text: string | undefined, problems: readonly Problem[]): string {
  const first = problems[0];
  if (!first) return `${file}: invalid`;
  let location = file;
  if (text !== undefined && first.rawPath.length > 0) {
    const tree = parseTree(text);
    // Point at the deepest node that exists: a missing field points at its parent object.
    for (let depth = first.rawPath.length; tree && depth >= 0; depth--) {
      const node = findNodeAtLocation(tree, first.rawPath.slice(0, depth) as (string | number)[]);
      if (node) {
        location = `${file}:${lineColumn(text, node.offset)}`;
        break;
      }
    }
  }
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? "s" : ""})` : "";
  return `${location}: ${formatProblem(first)}${more}`;
}

/** Reads, parses and validates a JSON file; returns the typed value and the source text. */
export async function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  what = "file",
): Promise<{ value: z.output<S>; text: string }> {
  const text = await readTextFile(file, what);
  const data = parseJsonText(text, file);
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) throw new InputError(describeProblems(file, text, issuesToProblems(result.error)));
  return { value: result.data, text };
}
