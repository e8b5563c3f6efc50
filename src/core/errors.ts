/**
 * The error taxonomy. Every error the user can cause or meet carries the exit code of README: Commands and a
 * one-line message; `src/index.ts` prints it and exits. Anything else is a bug in vwh: it exits 70
 * (EX_SOFTWARE, issue 12), so CI can tell a broken vwh from a broken handler (1), and shows a stack
 * only under --debug.
 */
export const ExitCode = {
  ok: 0,
  checkFailed: 1,
  badInput: 2,
  unreachable: 3,
  /** An unexpected error inside vwh itself (sysexits EX_SOFTWARE): please report it. */
  internal: 70,
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export class VwhError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;
  constructor(message: string, options: { exitCode: number; hint?: string | undefined; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.exitCode = options.exitCode;
    this.hint = options.hint;
  }
}

/** Bad flags or arguments (exit 2). */
export class UsageError extends VwhError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.badInput, hint });
  }
}

/** A bad input file: names the file, the JSON path or line:column, and what was expected (exit 2). */
export class InputError extends VwhError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.badInput, hint });
  }
}

/** The target could not be reached, or the tunnel not opened (exit 3). */
export class NetworkError extends VwhError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: ExitCode.unreachable, hint });
  }
}

/** Already reported to the user; just exit with this code. */
export class ExitError extends VwhError {
  constructor(exitCode: number) {
    super(`exit ${exitCode}`, { exitCode });
  }
}
