/**
 * The command-line parser. Builds the commander program without running it (tests parse argv in
 * process); each command's implementation is imported only when that command runs, so `vwh --help`
 * loads nothing heavy.
 */
import { Argument, Command, Option } from "commander";
import { platformFlags } from "./platform-flags.js";
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
export function settingsInput(command: Command): { options: Record<string, unknown>; sources: Record<string, string | undefined> } {
  const sources: Record<string, string | undefined> = {};
  for (let current: Command | null = command; current; current = current.parent) {
    for (const option of current.options) {
      const name = option.attributeName();
      if (!(name in sources)) sources[name] = current.getOptionValueSource(name);
    }
  }
  return { options: command.optsWithGlobals(), sources };
}
const schemeList = "standard | stripe | hmac | twilio | telnyx | retell | vonage | plivo | vapi | bearer";

/** --scheme, --secret and the generic HMAC settings: the same on every command that signs or verifies. */
function addSigningOptions(command: Command): Command {
  return command
    .option("--secret <secret>", "signing secret, repeatable for key rotation (default: $VWH_SECRET, space-separated)", collect)
    .option("--secret-env <name>", "read the secret from this environment variable instead of VWH_SECRET")
    .addOption(new Option("--scheme <scheme>", `signature scheme: ${schemeList}`).default("standard"))
    .addOption(new Option("--hmac-header <name>", "hmac: signature header").default("x-signature"))
    .addOption(new Option("--hmac-algorithm <alg>", "hmac: sha256 | sha512 | sha1").default("sha256"))
    .addOption(new Option("--hmac-template <template>", "hmac: signed content from {timestamp} {body} {method} {url} {id}").default("{timestamp}.{body}"))
    .addOption(new Option("--hmac-timestamp-header <name>", "hmac: timestamp header").default("x-timestamp"))
    .addOption(new Option("--hmac-id-header <name>", "hmac: id header (when the template has {id})").default("x-webhook-id"))
    .addOption(new Option("--hmac-encoding <encoding>", "hmac: hex | base64").default("hex"))
    .addOption(new Option("--hmac-prefix <prefix>", "hmac: signature prefix, e.g. sha256=").default(""));
}

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

  const simulate = program
    .command("simulate")
    .description("replay call flows to a webhook handler with signed deliveries and check every reply")
    .argument("[flow...]", "call-flow files, recordings or dead-letter files (default: flows in vwh.config.json)")
    .option("--url <url>", "the handler's webhook URL (or VWH_URL, or url in vwh.config.json)")
    .addOption(new Option("--platform <id>", "the platform to play: vwh | twilio … (see vwh platforms); a file's own platform wins").default("vwh"))
    .option("--public-url <url>", "the URL the platform is configured with, which it signs (a tunnel's public URL); requests still go to --url")
    .option("--max-hops <n>", "caller scripts: a call over this many webhooks fails as a loop", "50")
    .option("--status-callback <url>", "caller scripts: also send the platform's call-status callbacks to this URL (on the handler's origin)");
  for (const platformFlag of platformFlags) simulate.option(platformFlag.flag, platformFlag.description);
  addSigningOptions(simulate)
    .option("--keep-signatures", "replay recorded requests with their recorded signature headers instead of re-signing")
    .option("--compare-replies", "recordings: fail where the handler's reply differs from the recorded one (status, content type, body)")
    .option("--timeout <ms>", "abort a reply slower than this: a retryable failure (default: 10000, or the profile's)")
    .option("--budget <ms>", "latency budget per reply; over it is a warning", "200")
    .option("--strict-latency", "over-budget replies fail instead of warning")
    .option("--strict-events", "a failed status/event callback (a webhook whose reply the platform ignores) fails instead of warning")
    .option("--realtime", "wait each event's after_ms before sending it")
    .option("--retries <n>", "retry a failed delivery (connection error, timeout, 5xx, 408, 429) up to n times (default: 0, or the profile's)")
    .option("--backoff <ms>", "base delay of the exponential backoff with jitter (default: 500, or the profile's)")
    .option("--profile <platform>", "a platform's timeout and retry policy: twilio | vonage | telnyx | retell | vapi | standard")
    .option("--time-scale <factor>", "multiply every retry wait (backoff, schedule, Retry-After) by this", "1")
    .option("--duplicates <share>", "deliver this share (0..1) of events twice and check the handler is idempotent", "0")
    .option("--reorder <window>", "shuffle events within windows of this size", "0")
    .option("--seed <n>", "seed of every random choice (default: random, printed in the report)")
    .option("--dlq <file>", "append events that exhausted their retries to this JSON-lines file (replayable)")
    .option("--bail", "stop at the first failed event")
    .option("--calls <n>", "load mode: run n copies of the flows as separate calls (fresh call and event ids)")
    .option("--concurrency <n>", "load mode: calls in flight at once", "10")
    .option("--rate <calls/s>", "load mode: start calls at this rate (open loop), at most --concurrency in flight")
    .option("--pipelining <n>", "load mode: send up to n requests on a connection before the replies (default: 1; many handlers are not safe with it, see README)")
    .option("--workers <n>", "load mode: spread the sender over n worker threads (latency histograms merged exactly)", "1")
    .option("--junit <file>", "also write a JUnit XML report")
    .addHelpText("after", `\nExample:\n  VWH_SECRET=whsec_... vwh simulate fixtures/reschedule.json --url http://localhost:3000/webhooks/voice\n${exitCodesHelp}`)
    .action(async (files: string[], _options, command: Command) => {
      const { simulateCommand } = await import("../commands/simulate.js");
      await simulateCommand(files, settingsInput(command));
    });

  const sign = program
    .command("sign")
    .description("sign a body and print the headers a platform would send (or a ready curl command)")
    .argument("[body-file]", "the body to sign; - or nothing for standard input");
  addSigningOptions(sign)
    .option("--id <id>", "webhook id (default: the body's event_id, else random)")
    .option("--timestamp <unix>", "unix seconds (default: now)")
    .option("--curl <url>", "print a curl command that sends the signed request to this URL")
    .option("--request-url <url>", "the URL being signed, for schemes that sign it (default: the --curl URL)")
    .option("--content-type <type>", "the body's content type (default: what the platform sends — application/json for vwh, a form for twilio)")
    .addOption(new Option("--platform <id>", "the platform whose scheme and webhook id apply (see vwh platforms)").default("vwh"))
    .addHelpText("after", `\nExample:\n  VWH_SECRET=whsec_... vwh sign event.json --curl http://localhost:3000/webhooks/voice\n${exitCodesHelp}`)
    .action(async (file: string | undefined, _options, command: Command) => {
      const { signCommand } = await import("../commands/sign.js");
      await signCommand(file, settingsInput(command));
    });

  const verify = program
    .command("verify-signature")
    .description("check a signature offline, every delivery of a recording, or probe a live endpoint with forgeries")
    .option("--body <file>", "offline: the raw body (- for standard input)")
    .option("-H, --header <header>", 'offline: a received header, "name: value" (repeatable)', collect)
    .option("--headers-file <file>", "offline: the received headers as a JSON object")
    .option("--request-url <url>", "offline: the URL the request was sent to (twilio, hmac {url})")
    .option("--method <method>", "offline: the request method", "POST")
    .option("--recording <file>", "verify every recorded request of a vwh tunnel recording at its recorded time")
    .option("--url <endpoint>", "probe this live endpoint with valid, forged, tampered, stale and replayed requests")
    .addOption(new Option("--platform <id>", "probe: send the platform's own requests (vwh | twilio …) and default to its --scheme").default("vwh"))
    .option("--public-url <url>", "probe: the URL the platform is configured with, which it signs (a tunnel's public URL); requests still go to --url");
  addSigningOptions(verify)
    .option("--tolerance <seconds>", "accepted clock difference for timestamps", "300")
    .option("--at <unix>", "offline: verify as if now were this time (unix seconds)")
    .option("--timeout <ms>", "probe: abort a reply slower than this", "10000")
    .addHelpText(
      "after",
      `\nExamples:\n  vwh verify-signature --body body.json -H "webhook-id: msg_1" -H "webhook-timestamp: 1700000000" -H "webhook-signature: v1,..."\n  vwh verify-signature --recording calls.json\n  vwh verify-signature --url http://localhost:3000/webhooks/voice\n${exitCodesHelp}`,
    )
    .action(async (_options, command: Command) => {
      const { verifySignatureCommand } = await import("../commands/verify-signature.js");
      await verifySignatureCommand(settingsInput(command));
    });

  const tunnel = program
    .command("tunnel")
    .description("a public ngrok URL in front of your local handler, with a live log, a web inspector, signature checks and recording")
    .argument("[port]", "the local port your handler listens on")
    .option("--path <path>", "the webhook path, to print the full URL to paste into the platform", "/")
    .option("--domain <domain>", "an ngrok static domain")
    .option("--local", "no public tunnel: serve the inspecting proxy alone (offline work, tests)")
    .option("--proxy-port <port>", "port of the local proxy on 127.0.0.1 (default: any free port)", "0")
    .option("--record <file>", "record every request and its reply to this file (a replayable recording)")
    .option("--redact-pii", "mask phone numbers and transcript text in the recording")
    .option("--platform <id>", "identify and redact requests by this platform's fields, and check its scheme (see vwh platforms)")
    .option("--max-body <size>", "refuse bodies over this size with 413 (bytes, or 512k, 10m)", "10m")
    .option("--timeout <ms>", "answer 504 when the handler is slower than this", "30000")
    .option("--tolerance <seconds>", "accepted clock difference for signature timestamps", "300")
    .option("--inspect-port <port>", "port of the web inspector on 127.0.0.1 (default: any free port)", "0")
    .option("--no-inspect", "do not serve the web inspector")
    .option("--recover <journal>", "turn the journal a killed tunnel left (<recording>.journal) into its recording, then exit");
  addSigningOptions(tunnel)
    .addHelpText(
      "after",
      `\nThe ngrok token comes from NGROK_AUTHTOKEN or ngrok's own config, never from a flag.\nCtrl-C (or SIGTERM) stops cleanly and writes the recording; that exits 0. A second Ctrl-C while it\nis written is ignored. After a crash: vwh tunnel --recover calls.json.journal.\n\nExamples:\n  VWH_SECRET=whsec_... vwh tunnel 3000 --path /webhooks/voice --record calls.json\n  vwh tunnel --recover calls.json.journal\n${exitCodesHelp}`,
    )
    .action(async (port: string | undefined, _options, command: Command) => {
      const { tunnelCommand } = await import("../commands/tunnel.js");
      await tunnelCommand(port, settingsInput(command));
    });

  const exportArtillery = program
    .command("export")
    .description("write a load test for another engine that runs vwh's calls (many machines)")
    .command("artillery")
    .description("write an Artillery script, a processor that runs each virtual user's call through vwh, and its package.json")
    .argument("[flow...]", "call flows or caller scripts (default: flows in vwh.config.json)")
    .option("--url <url>", "the handler's webhook URL, the script's target (or VWH_URL, or url in vwh.config.json)")
    .option("--out <dir>", "the folder to write the script, processor and package.json to")
    .addOption(new Option("--format <format>", "the script's format").choices(["yaml", "json"]).default("yaml"))
    .option("--vwh-spec <spec>", "the vwh the package.json installs: a version, a range, or a tarball from npm pack (copied beside the script)")
    .option("--force", "overwrite files that already exist")
    .addOption(new Option("--platform <id>", "the platform to play: vwh | twilio … (see vwh platforms); a file's own platform wins").default("vwh"))
    .option("--public-url <url>", "the URL the platform is configured with, which it signs; requests still go to the target")
    .option("--max-hops <n>", "caller scripts: a call over this many webhooks fails as a loop", "50");
  addSigningOptions(exportArtillery);
  // Accepted only to be refused with a clear message: an export never holds a secret.
  exportArtillery.options.find((option) => option.long === "--secret")?.hideHelp();
  exportArtillery
    .option("--timeout <ms>", "abort a reply slower than this (default: 10000, or the profile's)")
    .option("--budget <ms>", "latency budget per reply; over it is counted in vwh.over_budget", "200")
    .option("--strict-latency", "over-budget replies fail instead of warning")
    .option("--realtime", "wait each event's after_ms before sending it, so calls last as long as real ones")
    .option("--retries <n>", "retry a failed delivery up to n times (default: 0, or the profile's)")
    .option("--backoff <ms>", "base delay of the exponential backoff with jitter (default: 500, or the profile's)")
    .option("--profile <platform>", "a platform's timeout and retry policy: twilio | vonage | telnyx | retell | vapi | standard")
    .option("--time-scale <factor>", "multiply every retry wait by this", "1")
    .option("--calls <n>", "start this many calls in all (with --rate or --duration)")
    .option("--rate <calls/s>", "start calls at this rate (default 1)")
    .option("--duration <s>", "seconds to start calls for (default 60, or --calls / --rate)")
    .option("--concurrency <n>", "at most n calls in flight (Artillery's maxVusers; arrivals over it are skipped)")
    .addHelpText(
      "after",
      `\nThe secret is never written: the processor reads $VWH_SECRET (or --secret-env's variable) where Artillery runs.\n\nExample:\n  vwh export artillery fixtures/*.json --url https://staging.example.com/webhooks/voice --rate 20 --duration 300 --out load\n  cd load && npm install && VWH_SECRET=whsec_... npx artillery run vwh-load.yml\n${exitCodesHelp}`,
    )
    .action(async (files: string[], _options, command: Command) => {
      const { exportArtilleryCommand } = await import("../commands/export.js");
      await exportArtilleryCommand(files, settingsInput(command));
    });

  program
    .command("init")
    .description("scaffold call flows, vwh.config.json and a CI workflow (asks a few questions)")
    .option("-y, --yes", "use the defaults, ask nothing")
    .addOption(new Option("--platform <id>", "write caller scripts and a config for this platform (see vwh platforms)").default("vwh"))
    .option("--force", "overwrite files that already exist")
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

  program
    .command("config")
    .description("show the effective settings and where each comes from: flag > environment > vwh.config.json > default")
    .option("--url <url>", "the handler's webhook URL")
    .option("--platform <id>", "the platform to play")
    .option("--scheme <scheme>", `signature scheme: ${schemeList}`)
    .option("--secret <secret>", "signing secret (shown masked)", collect)
    .option("--secret-env <name>", "the environment variable that holds the secret")
    .option("--budget <ms>", "latency budget")
    .option("--timeout <ms>", "reply timeout")
    .option("--retries <n>", "retries")
    .option("--profile <platform>", "retry profile")
    .addHelpText("after", `\nEnvironment: VWH_URL, VWH_PLATFORM, VWH_SCHEME, VWH_SECRET, VWH_BUDGET_MS, VWH_TIMEOUT_MS, VWH_RETRIES, VWH_PROFILE, VWH_CONFIG (the file).\n${exitCodesHelp}`)
    .action(async (_options, command: Command) => {
      const { configCommand } = await import("../commands/config.js");
      await configCommand(settingsInput(command));
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
