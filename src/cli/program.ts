/**
 * The command-line parser. Builds the commander program without running it (tests parse argv in
 * process); each command's implementation is imported only when that command runs, and the options come from
 * the settings table's zod-free columns (settings/columns.ts), so `vwh --help` loads nothing heavy.
 */
import { Argument, Command, Option } from "commander";
import type { SettingsInput } from "./config.js";
import { cliColumnsFor, helpOf } from "./settings/columns.js";
import type { CommandName } from "./settings/row.js";
import { vwhVersion } from "../core/version.js";

export const exitCodesHelp = `
Exit codes:
  0  success
  1  a check failed (the handler's reply or a signature is wrong)
  2  bad usage or bad input file
  3  could not reach the target, open the tunnel, or listen on a tunnel port
  70 internal error in vwh (a bug: run again with --debug and please report it)
  130 interrupted (Ctrl-C)`;

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The parsed options with where each came from (flag, default…), so config and env can fill the rest. */
export function settingsInput(command: Command, name: CommandName): SettingsInput {
  const sources: Record<string, string | undefined> = {};
  for (let current: Command | null = command; current; current = current.parent) {
    for (const option of current.options) {
      const key = option.attributeName();
      if (!(key in sources)) sources[key] = current.getOptionValueSource(key);
    }
  }
  return { command: name, options: command.optsWithGlobals(), sources };
}

/** Adds a command's rows of the settings table as commander options, in table order. */
function addSettings(command: Command, name: CommandName): Command {
  for (const row of cliColumnsFor(name)) {
    const option = new Option(row.flag, helpOf(row, name));
    if (row.default !== undefined) option.default(row.default);
    if (row.choices) option.choices(row.choices);
    if (row.repeatable) option.argParser(collect);
    if (row.hiddenIn?.includes(name)) option.hideHelp();
    command.addOption(option);
  }
  return command;
}

/** The environment variables a command reads, for its help. */
function environmentHelp(name: CommandName): string {
  const variables = cliColumnsFor(name).flatMap((row) => (row.env ? [row.env] : []));
  return variables.length ? `\nEnvironment: ${[...variables, "VWH_SECRET", "VWH_CONFIG (the file)"].join(", ")}.` : "";
}

export function createProgram(): Command {
  const program = addSettings(new Command("vwh"), "vwh")
    .description("Test voice-agent webhook handlers: simulate signed call events, check replies, verify signatures.")
    .version(vwhVersion(), "-v, --version")
    .showHelpAfterError("(add --help for usage)")
    .exitOverride()
    .addHelpText("after", exitCodesHelp);

  const simulate = program
    .command("simulate")
    .description("replay call flows to a webhook handler with signed deliveries and check every reply")
    .argument("[flow...]", "call-flow files, recordings or dead-letter files (default: flows in vwh.config.json)");
  addSettings(simulate, "simulate")
    .addHelpText(
      "after",
      `${environmentHelp("simulate")}\n\nExample:\n  VWH_SECRET=whsec_... vwh simulate fixtures/reschedule.json --url http://localhost:3000/webhooks/voice\n${exitCodesHelp}`,
    )
    .action(async (files: string[], _options, command: Command) => {
      const { simulateCommand } = await import("../commands/simulate.js");
      await simulateCommand(files, settingsInput(command, "simulate"));
    });

  const sign = program
    .command("sign")
    .description("sign a body and print the headers a platform would send (or a ready curl command)")
    .argument("[body-file]", "the body to sign; - or nothing for standard input");
  addSettings(sign, "sign")
    .addHelpText("after", `\nExample:\n  VWH_SECRET=whsec_... vwh sign event.json --curl http://localhost:3000/webhooks/voice\n${exitCodesHelp}`)
    .action(async (file: string | undefined, _options, command: Command) => {
      const { signCommand } = await import("../commands/sign.js");
      await signCommand(file, settingsInput(command, "sign"));
    });

  const verify = program
    .command("verify-signature")
    .description("check a signature offline, every delivery of a recording, or probe a live endpoint with forgeries");
  addSettings(verify, "verify-signature")
    .addHelpText(
      "after",
      `\nExamples:\n  vwh verify-signature --body body.json -H "webhook-id: msg_1" -H "webhook-timestamp: 1700000000" -H "webhook-signature: v1,..."\n  vwh verify-signature --recording calls.json\n  vwh verify-signature --url http://localhost:3000/webhooks/voice\n${exitCodesHelp}`,
    )
    .action(async (_options, command: Command) => {
      const { verifySignatureCommand } = await import("../commands/verify-signature.js");
      await verifySignatureCommand(settingsInput(command, "verify-signature"));
    });

  const tunnel = program
    .command("tunnel")
    .description("a public ngrok URL in front of your local handler, with a live log, a web inspector, signature checks and recording")
    .argument("[port]", "the local port your handler listens on");
  addSettings(tunnel, "tunnel")
    .addHelpText(
      "after",
      `\nThe ngrok token comes from NGROK_AUTHTOKEN or ngrok's own config, never from a flag.\nCtrl-C (or SIGTERM) stops cleanly and writes the recording; that exits 0. A second Ctrl-C while it\nis written is ignored. After a crash: vwh tunnel --recover calls.json.journal.\n\nExamples:\n  VWH_SECRET=whsec_... vwh tunnel 3000 --path /webhooks/voice --record calls.json\n  vwh tunnel --recover calls.json.journal\n${exitCodesHelp}`,
    )
    .action(async (port: string | undefined, _options, command: Command) => {
      const { tunnelCommand } = await import("../commands/tunnel.js");
      await tunnelCommand(port, settingsInput(command, "tunnel"));
    });

  const exportArtillery = program
    .command("export")
    .description("write a load test for another engine that runs vwh's calls (many machines)")
    .command("artillery")
    .description("write an Artillery script, a processor that runs each virtual user's call through vwh, and its package.json")
    .argument("[flow...]", "call flows or caller scripts (default: flows in vwh.config.json)");
  // --secret is accepted only to be refused with a clear message: an export never holds a secret.
  addSettings(exportArtillery, "export artillery")
    .addHelpText(
      "after",
      `\nThe secret is never written: the processor reads $VWH_SECRET (or --secret-env's variable) where Artillery runs.\n\nThe running vwh is packed beside the script (vwh-<version>.tgz, package.json: file:vwh-<version>.tgz), so\nnpm install there and on Artillery's Fargate workers installs this vwh; --vwh-spec names another (a version\nonce vwh is on the registry, a git URL, or a tarball path).\n\nExample:\n  vwh export artillery fixtures/*.json --url https://staging.example.com/webhooks/voice --rate 20 --duration 300 --out load\n  cd load && npm install && VWH_SECRET=whsec_... artillery run vwh-load.yml   (Artillery: npm install -g artillery; on Node 20 artillery@2.0.21)\n${exitCodesHelp}`,
    )
    .action(async (files: string[], _options, command: Command) => {
      const { exportArtilleryCommand } = await import("../commands/export.js");
      await exportArtilleryCommand(files, settingsInput(command, "export artillery"));
    });

  const init = program.command("init").description("scaffold call flows, vwh.config.json and a CI workflow (asks a few questions)");
  addSettings(init, "init")
    .addHelpText("after", `\nCtrl-C at a prompt writes nothing and exits 130.\n${exitCodesHelp}`)
    .action(async (_options, command: Command) => {
      const { initCommand } = await import("../commands/init.js");
      await initCommand(command.optsWithGlobals());
    });

  program
    .command("platforms")
    .description("list the platforms vwh can play, with their events, actions, caller steps and defaults")
    .addHelpText("after", exitCodesHelp)
    .action(async (_options, command: Command) => {
      const { platformsCommand } = await import("../commands/platforms.js");
      await platformsCommand(command.optsWithGlobals());
    });

  const config = program.command("config").description("show the effective settings and where each comes from: flag > environment > vwh.config.json > default");
  addSettings(config, "config")
    .addHelpText("after", `${environmentHelp("config")}\n${exitCodesHelp}`)
    .action(async (_options, command: Command) => {
      const { configCommand } = await import("../commands/config.js");
      await configCommand(settingsInput(command, "config"));
    });

  program
    .command("schema")
    .description("print the JSON Schema of a file format")
    .addArgument(new Argument("<format>", "which format").choices(["call-flow", "instructions", "recording", "config"]))
    .addHelpText("after", exitCodesHelp)
    .action(async (format: string, _options, command: Command) => {
      const { schemaCommand } = await import("../commands/schema.js");
      await schemaCommand(format, command.optsWithGlobals());
    });

  return program;
}
