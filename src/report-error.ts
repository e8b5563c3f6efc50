/** How an error reaches the user: one line (a stack only under --debug) and the exit code it stands for. */
import { CommanderError } from "commander";
import { ExitCode, ExitError, VwhError } from "./errors.js";

export function reportError(error: unknown, debug: boolean, stderr: { write(text: string): unknown } = process.stderr): number {
  if (error instanceof CommanderError) {
    // commander has already printed its one line; help and --version are successes.
    const success = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
    return success ? ExitCode.ok : ExitCode.badInput;
  }
  if (error instanceof VwhError) {
    if (!(error instanceof ExitError)) {
      stderr.write(`vwh: ${error.message}\n`);
      if (error.hint) stderr.write(`  hint: ${error.hint}\n`);
    }
    if (debug && error.stack) stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(`vwh: unexpected error: ${message}\n`);
  if (debug && error instanceof Error) stderr.write(`${error.stack}\n`);
  else stderr.write("  (run again with --debug for the stack trace, and please report it)\n");
  return ExitCode.checkFailed;
}
