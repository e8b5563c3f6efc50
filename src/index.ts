/**
 * The entry point: runs the program, owns the one top-level catch and the only process.exit.
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
rememberConfiguredSecrets(process.env, [...flagValues("--secret"), ...secretEnvValues.filter((value) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(value))], secretEnvValues);

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
process.exit(exitCode);
