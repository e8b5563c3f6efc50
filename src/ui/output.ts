/** Where a command writes: results to stdout, logs and errors to stderr, colour decided once. */
import type { ChalkInstance } from "chalk";
import type { StdinStream } from "../files/body-input.js";
import { colorEnabled, createColors } from "./color.js";

export interface GlobalOptions {
  json?: boolean;
  color?: boolean;
  debug?: boolean;
}

export interface Output {
  json: boolean;
  debug: boolean;
  colors: ChalkInstance;
  /** Results: the report, or the JSON document under --json. */
  out(text: string): void;
  /** Progress, warnings, errors. */
  err(text: string): void;
  warn(text: string): void;
}

/** Where output goes: the process's streams, or (in tests) anything with write and isTTY. */
export interface Streams {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown; isTTY?: boolean };
  /** Where `-` reads from (default: the process's standard input). */
  stdin?: StdinStream;
}

export const processStreams = (): Streams => ({ stdout: process.stdout, stderr: process.stderr });

export function createOutput(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env, streams: Streams = processStreams()): Output {
  const { stdout, stderr } = streams;
  const colors = createColors(colorEnabled(options, stdout, env));
  const errColors = createColors(colorEnabled(options, stderr, env));
  return {
    json: options.json === true,
    debug: options.debug === true,
    colors,
    out: (text) => void stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => void stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    warn: (text) => void stderr.write(`${errColors.yellow("warning:")} ${text}\n`),
  };
}
