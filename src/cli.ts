/**
 * The command-line parser. Builds the commander program without running it (tests parse argv in
 * process); each command's implementation is imported only when that command runs, so `vwh --help`
 * loads nothing heavy.
 */
import { Argument, Command, Option } from "commander";
import { vwhVersion } from "./version.js";

export const exitCodesHelp = `
Exit codes:
  0  success
  1  a check failed (the handler's reply or a signature is wrong)
  2  bad usage or bad input file
  3  could not reach the target or open the tunnel
  130 interrupted (Ctrl-C)`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function createProgram(): Command {
  const program = new Command("vwh")
    .description("Test voice-agent webhook handlers: simulate signed call events, check replies, verify signatures.")
    .version(vwhVersion(), "-v, --version")
    .option("--json", "machine-readable output only, on stdout")
    .option("--no-color", "no colours (also NO_COLOR)")
    .option("--debug", "show stack traces for unexpected errors")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .addHelpText("after", exitCodesHelp);

  program
    .command("simulate")
    .description("replay call flows to a webhook handler with signed deliveries and check every reply")
    .argument("<flow...>", "call-flow JSON files (see: vwh schema call-flow)")
    .option("--url <url>", "the handler's webhook URL")
    .option("--secret <secret>", "signing secret, repeatable for rotation (default: $VWH_SECRET)", collect)
    .addOption(new Option("--scheme <scheme>", "signature scheme").default("standard"))
    .option("--timeout <ms>", "abort a reply slower than this", "10000")
    .option("--budget <ms>", "latency budget per reply; over it is a warning", "200")
    .option("--strict-latency", "over-budget replies fail instead of warning")
    .option("--realtime", "wait each event's after_ms before sending it")
    .option("--junit <file>", "also write a JUnit XML report")
    .addHelpText("after", `\nExample:\n  VWH_SECRET=whsec_... vwh simulate fixtures/reschedule.json --url http://localhost:3000/webhooks/voice\n${exitCodesHelp}`)
    .action(async (files: string[], _options, command: Command) => {
      const { simulateCommand } = await import("./commands/simulate.js");
      await simulateCommand(files, command.optsWithGlobals());
    });

  program
    .command("schema")
    .description("print the JSON Schema of a file format")
    .addArgument(new Argument("<format>", "which format").choices(["call-flow", "instructions"]))
    .addHelpText("after", exitCodesHelp)
    .action(async (format: string, _options, command: Command) => {
      const { schemaCommand } = await import("./commands/schema.js");
      await schemaCommand(format, command.optsWithGlobals());
    });

  return program;
}
