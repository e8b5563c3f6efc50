/** Where a command writes: results to stdout, logs and errors to stderr, colour decided once. */
import type { ChalkInstance } from "chalk";
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

export function createOutput(options: GlobalOptions, env: NodeJS.ProcessEnv = process.env): Output {
  const colors = createColors(colorEnabled(options, process.stdout, env));
  const errColors = createColors(colorEnabled(options, process.stderr, env));
  return {
    json: options.json === true,
    debug: options.debug === true,
    colors,
    out: (text) => void process.stdout.write(text.endsWith("\n") ? text : `${text}\n`),
    err: (text) => void process.stderr.write(text.endsWith("\n") ? text : `${text}\n`),
    warn: (text) => void process.stderr.write(`${errColors.yellow("warning:")} ${text}\n`),
  };
}
