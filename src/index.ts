/**
 * The entry point: runs the program, owns the one top-level catch and the only process.exit.
 */
import { CommanderError } from "commander";
import { createProgram } from "./cli.js";
import { ExitCode, ExitError, VwhError } from "./errors.js";

function wantsDebug(argv: readonly string[]): boolean {
  return argv.includes("--debug") || process.env.VWH_DEBUG === "1";
}

function report(error: unknown, debug: boolean): number {
  if (error instanceof CommanderError) {
    // commander has already printed its one line; help and --version are successes.
    const success = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
    return success ? ExitCode.ok : ExitCode.badInput;
  }
  if (error instanceof VwhError) {
    if (!(error instanceof ExitError)) {
      process.stderr.write(`vwh: ${error.message}\n`);
      if (error.hint) process.stderr.write(`  hint: ${error.hint}\n`);
    }
    if (debug && error.stack) process.stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`vwh: unexpected error: ${message}\n`);
  if (debug && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write("  (run again with --debug for the stack trace, and please report it)\n");
  return ExitCode.checkFailed;
}

let exitCode: number = ExitCode.ok;
try {
  await createProgram().parseAsync(process.argv);
  exitCode = typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
} catch (error) {
  exitCode = report(error, wantsDebug(process.argv));
}
process.exit(exitCode);
