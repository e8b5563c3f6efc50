/** The settings of the other commands: export artillery, sign, verify-signature, tunnel, init. */
import * as z from "zod";
import { maxToleranceSeconds, maxUnixSeconds } from "../../core/limits.js";
import { httpUrlFlag, integerFlag } from "../flag-values.js";
import { milliseconds, port, setting, sizeFlag } from "./row.js";

export const commandsSettings = {
  out: setting({
    key: "out",
    flag: "--out <dir>",
    schema: z.string().min(1, "expected a folder"),
    commands: ["export artillery"],
    help: "the folder to write the script, processor and package.json to",
  }),
  format: setting({
    key: "format",
    flag: "--format <format>",
    schema: z.enum(["yaml", "json"]),
    default: "yaml",
    choices: ["yaml", "json"],
    commands: ["export artillery"],
    help: "the script's format",
  }),
  vwhSpec: setting({
    key: "vwhSpec",
    flag: "--vwh-spec <spec>",
    schema: z.string().min(1, "expected a version, a range, a git URL or a tarball path").optional(),
    commands: ["export artillery"],
    help: "the vwh the package.json installs (default: this vwh, packed beside the script): a version or range once published, a git URL, or a tarball from npm pack (copied beside the script)",
  }),
  duration: setting({
    key: "duration",
    flag: "--duration <s>",
    schema: integerFlag("seconds", { min: 1 }).optional(),
    commands: ["export artillery"],
    help: "seconds to start calls for (default 60, or --calls / --rate)",
  }),
  force: setting({
    key: "force",
    flag: "--force",
    schema: z.boolean().default(false),
    commands: ["export artillery", "init"],
    help: "overwrite files that already exist",
  }),

  id: setting({
    key: "id",
    flag: "--id <id>",
    schema: z.string().min(1).optional(),
    commands: ["sign"],
    help: "webhook id (default: the body's event_id, else random)",
  }),
  timestamp: setting({
    key: "timestamp",
    flag: "--timestamp <unix>",
    schema: integerFlag("seconds", { max: maxUnixSeconds }).optional(),
    commands: ["sign"],
    help: "unix seconds (default: now)",
  }),
  curl: setting({
    key: "curl",
    flag: "--curl <url>",
    schema: httpUrlFlag.optional(),
    commands: ["sign"],
    help: "print a curl command that sends the signed request to this URL",
  }),
  requestUrl: setting({
    key: "requestUrl",
    flag: "--request-url <url>",
    schema: httpUrlFlag.optional(),
    commands: ["sign", "verify-signature"],
    help: {
      default: "the URL being signed, for schemes that sign it (default: the --curl URL)",
      "verify-signature": "offline: the URL the request was sent to (twilio, hmac {url})",
    },
  }),
  contentType: setting({
    key: "contentType",
    flag: "--content-type <type>",
    schema: z.string().min(1).optional(),
    commands: ["sign"],
    help: "the body's content type (default: what the platform sends — application/json for vwh, a form for twilio)",
  }),

  body: setting({
    key: "body",
    flag: "--body <file>",
    schema: z.string().min(1).optional(),
    commands: ["verify-signature"],
    help: "offline: the raw body (- for standard input)",
  }),
  header: setting({
    key: "header",
    flag: "-H, --header <header>",
    schema: z.array(z.string()).optional(),
    repeatable: true,
    commands: ["verify-signature"],
    help: 'offline: a received header, "name: value" (repeatable)',
  }),
  headersFile: setting({
    key: "headersFile",
    flag: "--headers-file <file>",
    schema: z.string().min(1).optional(),
    commands: ["verify-signature"],
    help: "offline: the received headers as a JSON object",
  }),
  method: setting({
    key: "method",
    flag: "--method <method>",
    schema: z
      .string()
      .regex(/^[A-Za-z]+$/, "expected an HTTP method")
      .transform((method) => method.toUpperCase()),
    default: "POST",
    commands: ["verify-signature"],
    help: "offline: the request method",
  }),
  recording: setting({
    key: "recording",
    flag: "--recording <file>",
    schema: z.string().min(1).optional(),
    commands: ["verify-signature"],
    help: "verify every recorded request of a vwh tunnel recording at its recorded time",
  }),
  // Not VWH_URL nor the config's url: those name the handler for simulate, and must not turn an offline check into a probe.
  probeUrl: setting({
    key: "url",
    flag: "--url <endpoint>",
    schema: httpUrlFlag.optional(),
    commands: ["verify-signature"],
    help: "probe this live endpoint with valid, forged, tampered, stale and replayed requests",
  }),
  tolerance: setting({
    key: "tolerance",
    flag: "--tolerance <seconds>",
    schema: integerFlag("seconds", { max: maxToleranceSeconds }),
    default: "300",
    commands: ["verify-signature", "tunnel"],
    help: { default: "accepted clock difference for timestamps", tunnel: "accepted clock difference for signature timestamps" },
  }),
  at: setting({
    key: "at",
    flag: "--at <unix>",
    schema: integerFlag("seconds", { max: maxUnixSeconds }).optional(),
    commands: ["verify-signature"],
    help: "offline: verify as if now were this time (unix seconds)",
  }),
  probeTimeout: setting({
    key: "timeout",
    flag: "--timeout <ms>",
    schema: milliseconds,
    default: "10000",
    commands: ["verify-signature"],
    help: "probe: abort a reply slower than this",
  }),

  path: setting({
    key: "path",
    flag: "--path <path>",
    schema: z.string().startsWith("/", "expected a path starting with /"),
    default: "/",
    commands: ["tunnel"],
    help: "the webhook path, to print the full URL to paste into the platform",
  }),
  domain: setting({
    key: "domain",
    flag: "--domain <domain>",
    schema: z
      .string()
      .regex(/^[a-z0-9.-]+$/i, "expected a domain name like my-agent.ngrok.app")
      .optional(),
    commands: ["tunnel"],
    help: "an ngrok static domain",
  }),
  local: setting({
    key: "local",
    flag: "--local",
    schema: z.boolean().default(false),
    commands: ["tunnel"],
    help: "no public tunnel: serve the inspecting proxy alone (offline work, tests)",
  }),
  proxyPort: setting({
    key: "proxyPort",
    flag: "--proxy-port <port>",
    schema: port,
    default: "0",
    commands: ["tunnel"],
    help: "port of the local proxy on 127.0.0.1 (default: any free port)",
  }),
  record: setting({
    key: "record",
    flag: "--record <file>",
    schema: z.string().min(1).optional(),
    commands: ["tunnel"],
    help: "record every request and its reply to this file (a replayable recording)",
  }),
  redactPii: setting({
    key: "redactPii",
    flag: "--redact-pii",
    schema: z.boolean().default(false),
    commands: ["tunnel"],
    help: "mask phone numbers and transcript text in the recording",
  }),
  maxBody: setting({
    key: "maxBody",
    flag: "--max-body <size>",
    schema: sizeFlag,
    default: "10m",
    commands: ["tunnel"],
    help: "refuse bodies over this size with 413 (bytes, or 512k, 10m)",
  }),
  tunnelTimeout: setting({
    key: "timeout",
    flag: "--timeout <ms>",
    schema: milliseconds,
    default: "30000",
    commands: ["tunnel"],
    help: "answer 504 when the handler is slower than this",
  }),
  inspectPort: setting({
    key: "inspectPort",
    flag: "--inspect-port <port>",
    schema: port,
    default: "0",
    commands: ["tunnel"],
    help: "port of the web inspector on 127.0.0.1 (default: any free port)",
  }),
  inspect: setting({ key: "inspect", flag: "--no-inspect", schema: z.boolean().default(true), commands: ["tunnel"], help: "do not serve the web inspector" }),
  recover: setting({
    key: "recover",
    flag: "--recover <journal>",
    schema: z.string().min(1).optional(),
    commands: ["tunnel"],
    help: "turn the journal a killed tunnel left (<recording>.journal) into its recording, then exit",
  }),

  yes: setting({ key: "yes", flag: "-y, --yes", schema: z.boolean().default(false), commands: ["init"], help: "use the defaults, ask nothing" }),
} as const;
