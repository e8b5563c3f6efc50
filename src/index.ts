/**
 * The entry point: runs the program, owns the one top-level catch and the only process.exit — taken only once
 * stdout and stderr have handed every byte to the OS (a write to a pipe is asynchronous: exiting straight after
 * it cuts a `--json` report read by a slow consumer at 64 KiB).
 */
import { createProgram } from "./cli/program.js";
import { ExitCode } from "./core/errors.js";
import { rememberConfiguredSecrets } from "./core/secrets.js";
import { reportError } from "./ui/report-error.js";

const argv = process.argv;
const debug = argv.includes("--debug") || process.env.VWH_DEBUG === "1";
const json = argv.includes("--json");

/** Values given to --secret and the variables --secret-env names, before any parsing can quote them. */
function flagValues(name: string): string[] {
  return argv.flatMap((arg, index) => (arg === name ? [argv[index + 1] ?? ""] : arg.startsWith(`${name}=`) ? [arg.slice(name.length + 1)] : []));
}
// A --secret-env value that is no variable name is most likely the secret itself, pasted by mistake.
const secretEnvValues = flagValues("--secret-env");
rememberConfiguredSecrets(
  process.env,
  [...flagValues("--secret"), ...secretEnvValues.filter((value) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value))],
  secretEnvValues,
);

// A reader that went away (`vwh … | head`) ends the run quietly, as other command-line tools do, not with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
    process.exit(typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok);
  });
}

let exitCode: number = ExitCode.ok;
try {
  await createProgram().parseAsync(argv);
  exitCode = typeof process.exitCode === "number" ? process.exitCode : ExitCode.ok;
} catch (error) {
  const report = reportError(error, { json, debug });
  if (report.stdout) process.stdout.write(report.stdout);
  if (report.stderr) process.stderr.write(report.stderr);
  exitCode = report.exitCode;
}
/** Resolves once everything written to the stream before has been flushed (a write's callback runs in order). */
const drained = (stream: NodeJS.WriteStream) =>
  new Promise<void>((resolve) => (stream.writableEnded || stream.destroyed ? resolve() : stream.write("", () => resolve())));
process.exitCode = exitCode;
await Promise.all([drained(process.stdout), drained(process.stderr)]);
process.exit(exitCode);
