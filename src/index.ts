/**
 * The entry point: runs the program, owns the one top-level catch and the only process.exit.
 */
import { createProgram } from "./cli.js";
import { ExitCode } from "./errors.js";
import { reportError } from "./report-error.js";

function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes("--debug") || process.env.VWH_DEBUG === "1";
}

let exitCode: number = ExitCode.ok;
try {
  await createProgram().parseAsync(process.argv);
  exitCode = typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
} catch (error) {
  exitCode = reportError(error, wantsDebug(process.argv));
}
process.exit(exitCode);
