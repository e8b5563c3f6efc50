/**
 * Turning any error into what the user sees and the exit code (README: Commands, issue 12): one line (plus a
 * hint) on stderr, the same as a JSON object on stdout under --json, secrets masked, and exit 70 with
 * "please report" for anything that is not one of vwh's own errors. Pure: `src/index.ts` writes and exits.
 */
import { CommanderError } from "commander";
import { ExitCode, ExitError, VwhError } from "../core/errors.js";
import { redactSecrets } from "../core/secrets.js";

export interface ErrorReport {
  exitCode: number;
  /** For stderr. */
  stderr: string;
  /** For stdout (only under --json). */
  stdout: string;
}

export interface ReportContext {
  json: boolean;
  debug: boolean;
}

function jsonError(message: string, hint: string | undefined, exitCode: number): string {
  return `${JSON.stringify({ error: { message, hint: hint ?? null, exit_code: exitCode } })}\n`;
}

export function reportError(error: unknown, context: ReportContext): ErrorReport {
  if (error instanceof CommanderError) {
    // commander has already printed its one line; help and --version are successes.
    const success = error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help";
    if (success) return { exitCode: ExitCode.ok, stderr: "", stdout: "" };
    const message = redactSecrets(error.message.replace(/^error: /, ""));
    return { exitCode: ExitCode.badInput, stderr: "", stdout: context.json ? jsonError(message, "add --help for usage", ExitCode.badInput) : "" };
  }
  if (error instanceof ExitError) {
    // Already reported (the JSON report carries the exit code).
    return { exitCode: error.exitCode, stderr: context.debug && error.stack ? `${error.stack}\n` : "", stdout: "" };
  }
  if (error instanceof VwhError) {
    const message = redactSecrets(error.message);
    const hint = error.hint === undefined ? undefined : redactSecrets(error.hint);
    let stderr = `vwh: ${message}\n${hint ? `  hint: ${hint}\n` : ""}`;
    if (context.debug && error.stack) stderr += `${redactSecrets(error.stack)}\n`;
    return { exitCode: error.exitCode, stderr, stdout: context.json ? jsonError(message, hint, error.exitCode) : "" };
  }
  const message = redactSecrets(error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "";
  const hint = "this is a bug in vwh: run again with --debug for the stack trace, and please report it";
  let stderr = `vwh: internal error: ${message}\n`;
  if (context.debug && error instanceof Error && error.stack) stderr += `${redactSecrets(error.stack)}\n`;
  else stderr += `  hint: ${hint}\n`;
  return { exitCode: ExitCode.internal, stderr, stdout: context.json ? jsonError(`internal error: ${message}`, hint, ExitCode.internal) : "" };
}
