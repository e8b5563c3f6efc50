/**
 * Reading JSON input files with errors a person can act on: the file, the line:column of a syntax
 * error or the JSON path of a schema violation, and what was expected.
 */
import { open } from "node:fs/promises";
import { findNodeAtLocation, parseTree, printParseErrorCode, type ParseError } from "jsonc-parser";
import type * as z from "zod";
import { InputError } from "../core/errors.js";
import { formatProblem, issuesToProblems, type Problem } from "../lib/validation.js";

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

/**
 * How deep objects and arrays may nest in any JSON vwh reads. Real flows nest about eight levels;
 * 10 000 levels overflowed the stack in the planner and the error reporter (issue 12, item 1).
 */
export const maxJsonDepth = 64;

/** The offset of the first bracket that nests deeper than `limit`, found without recursion. */
export function tooDeepAt(text: string, limit = maxJsonDepth): number | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (code === 92 /* \ */) i++;
      else if (code === 34 /* " */) inString = false;
    } else if (code === 34) inString = true;
    else if (code === 123 /* { */ || code === 91 /* [ */) {
      if (++depth > limit) return i;
    } else if (code === 125 /* } */ || code === 93 /* ] */) depth--;
  }
  return undefined;
}

/** Refuses JSON that nests deeper than vwh's limit, naming where. */
export function checkJsonDepth(text: string, file: string): void {
  const offset = tooDeepAt(text);
  if (offset !== undefined) {
    throw new InputError(`${file}:${lineColumn(text, offset)}: nested deeper than ${maxJsonDepth} levels (vwh's limit for JSON input)`);
  }
}

/** Parses strict JSON; on failure locates the first error (JSON.parse alone does not always say where). */
export function parseJsonText(text: string, file: string): unknown {
  checkJsonDepth(text, file);
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

/** The most vwh reads of an input file (64 MiB): `/dev/zero`, or a pipe that never ends, must not fill memory. */
export const maxInputFileBytes = 64 * 1024 * 1024;

export class FileTooLargeError extends Error {
  readonly code = "EFBIG";
}

/** A file's bytes, read in chunks and refused past `maxBytes` (pipes and devices included, whose size stat does not know). */
export async function readBoundedFile(file: string, maxBytes = maxInputFileBytes): Promise<Buffer> {
  const handle = await open(file, "r");
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1024 * 1024, maxBytes + 1 - size));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) return Buffer.concat(chunks, size);
      chunks.push(chunk.subarray(0, bytesRead));
      size += bytesRead;
      if (size > maxBytes) throw new FileTooLargeError(`over ${maxBytes / 1024 / 1024} MiB`);
    }
  } finally {
    await handle.close();
  }
}

export async function readTextFile(file: string, what = "file"): Promise<string> {
  try {
    return (await readBoundedFile(file)).toString("utf8");
  } catch (error) {
    if (error instanceof FileTooLargeError) throw new InputError(`${file}: cannot read ${what}: ${error.message}`);
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : code === "EACCES" ? "permission denied" : (error as Error).message;
    throw new InputError(`${file}: cannot read ${what}: ${reason}`);
  }
}

/** At most this many problems are listed, one line each; a count stands for the rest. */
export const maxListedProblems = 20;

/** `file:line:col: path: reason`, one line per problem (issue 12, item 6), up to `maxListedProblems`. */
export function describeProblems(file: string, text: string | undefined, problems: readonly Problem[]): string {
  if (problems.length === 0) return `${file}: invalid`;
  const tree = text === undefined ? undefined : parseTree(text);
  const locate = (problem: Problem) => {
    // Point at the deepest node that exists: a missing field points at its parent object.
    for (let depth = problem.rawPath.length; tree && text !== undefined && problem.rawPath.length > 0 && depth >= 0; depth--) {
      const node = findNodeAtLocation(tree, problem.rawPath.slice(0, depth) as (string | number)[]);
      if (node) return `${file}:${lineColumn(text, node.offset)}`;
    }
    return file;
  };
  const lines = problems.slice(0, maxListedProblems).map((problem) => `${locate(problem)}: ${formatProblem(problem)}`);
  const rest = problems.length - lines.length;
  if (rest > 0) lines.push(`${file}: (and ${rest} more problem${rest > 1 ? "s" : ""})`);
  return lines.join("\n");
}

/** Reads, parses and validates a JSON file; returns the typed value and the source text. */
export async function readJsonFile<S extends z.ZodType>(file: string, schema: S, what = "file"): Promise<{ value: z.output<S>; text: string }> {
  const text = await readTextFile(file, what);
  const data = parseJsonText(text, file);
  const result = schema.safeParse(data, { reportInput: true });
  if (!result.success) throw new InputError(describeProblems(file, text, issuesToProblems(result.error)));
  return { value: result.data, text };
}
