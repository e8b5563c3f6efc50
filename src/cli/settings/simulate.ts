/** The settings of `vwh simulate` (and those `vwh export artillery` shares with it): caller scripts, faults, load mode. */
import * as z from "zod";
import { defaultMaxHops, maxTimerMs, } from "../../core/limits.js";
import { httpUrlFlag, integerFlag, numberFlag } from "../flag-values.js";
import { port, setting, } from "./row.js";

export const simulateSettings = {
  maxHops: setting({
    key: "maxHops",
    flag: "--max-hops <n>",
    schema: integerFlag("webhooks", { min: 1, max: 10_000 }),
    default: String(defaultMaxHops),
    commands: ["simulate", "export artillery"],
    help: "caller scripts: a call over this many webhooks fails as a loop",
  }),
  statusCallback: setting({
    key: "statusCallback",
    flag: "--status-callback <url>",
    schema: httpUrlFlag.optional(),
    commands: ["simulate"],
    help: "caller scripts: also send the platform's call-status callbacks to this URL (on the handler's origin)",
  }),
  vapiToolShape: setting({
    key: "vapiToolShape",
    flag: "--vapi-tool-shape <shape>",
    schema: z.enum(["sdk", "sdk-object", "custom-tools", "events"]).optional(),
    commands: ["simulate"],
    platform: "vapi",
    help: "vapi: the tool-call payload shape: sdk (default) | sdk-object | custom-tools | events",
  }),
  telnyxApiPort: setting({
    key: "telnyxApiPort",
    flag: "--telnyx-api-port <port>",
    schema: port.optional(),
    commands: ["simulate"],
    platform: "telnyx",
    help: "telnyx: port of vwh's local Call Control API on 127.0.0.1, printed as TELNYX_BASE_URL (default: a free port)",
  }),
  keepSignatures: setting({
    key: "keepSignatures",
    flag: "--keep-signatures",
    schema: z.boolean().default(false),
    commands: ["simulate"],
    help: "replay recorded requests with their recorded signature headers instead of re-signing",
  }),
  compareReplies: setting({
    key: "compareReplies",
    flag: "--compare-replies",
    schema: z.boolean().default(false),
    commands: ["simulate"],
    help: "recordings: fail where the handler's reply differs from the recorded one (status, content type, body)",
  }),
  strictLatency: setting({
    key: "strictLatency",
    flag: "--strict-latency",
    schema: z.boolean().default(false),
    commands: ["simulate", "export artillery"],
    help: "over-budget replies fail instead of warning",
  }),
  realtime: setting({
    key: "realtime",
    flag: "--realtime",
    schema: z.boolean().default(false),
    commands: ["simulate", "export artillery"],
    help: { default: "wait each event's after_ms before sending it", "export artillery": "wait each event's after_ms before sending it, so calls last as long as real ones" },
  }),
  backoff: setting({
    key: "backoff",
    flag: "--backoff <ms>",
    schema: integerFlag("milliseconds", { max: maxTimerMs }).optional(),
    commands: ["simulate", "export artillery"],
    help: "base delay of the exponential backoff with jitter (default: 500, or the profile's)",
  }),
  timeScale: setting({
    key: "timeScale",
    flag: "--time-scale <factor>",
    schema: numberFlag("a positive number", { exclusiveMin: true, max: 1000 }),
    default: "1",
    commands: ["simulate", "export artillery"],
    help: "multiply every retry wait (backoff, schedule, Retry-After) by this",
  }),
  duplicates: setting({
    key: "duplicates",
    flag: "--duplicates <share>",
    schema: numberFlag("a share between 0 and 1", { max: 1 }),
    default: "0",
    commands: ["simulate"],
    help: "deliver this share (0..1) of events twice and check the handler is idempotent",
  }),
  reorder: setting({
    key: "reorder",
    flag: "--reorder <window>",
    schema: integerFlag("events"),
    default: "0",
    commands: ["simulate"],
    help: "shuffle events within windows of this size",
  }),
  seed: setting({
    key: "seed",
    flag: "--seed <n>",
    schema: integerFlag("a whole number", { max: 2 ** 32 - 1 }).optional(),
    commands: ["simulate"],
    help: "seed of every random choice (default: random, printed in the report)",
  }),
  dlq: setting({
    key: "dlq",
    flag: "--dlq <file>",
    schema: z.string().min(1).optional(),
    commands: ["simulate"],
    help: "append events that exhausted their retries to this JSON-lines file (replayable)",
  }),
  bail: setting({ key: "bail", flag: "--bail", schema: z.boolean().default(false), commands: ["simulate"], help: "stop at the first failed event" }),
  calls: setting({
    key: "calls",
    flag: "--calls <n>",
    schema: integerFlag("calls", { min: 1 }).optional(),
    commands: ["simulate", "export artillery"],
    help: {
      default: "load mode: run n copies of the flows as separate calls (fresh call and event ids)",
      "export artillery": "start this many calls in all (with --rate or --duration)",
    },
  }),
  concurrency: setting({
    key: "concurrency",
    flag: "--concurrency <n>",
    schema: integerFlag("calls", { min: 1, max: 10_000 }),
    default: "10",
    commands: ["simulate"],
    help: "load mode: calls in flight at once",
  }),
  exportConcurrency: setting({
    key: "concurrency",
    flag: "--concurrency <n>",
    schema: integerFlag("calls", { min: 1, max: 10_000 }).optional(),
    commands: ["export artillery"],
    help: "at most n calls in flight (Artillery's maxVusers; arrivals over it are skipped)",
  }),
  rate: setting({
    key: "rate",
    flag: "--rate <calls/s>",
    // At least one call per timer's reach (about 24.8 days), so the pause between calls can run.
    schema: numberFlag("calls per second", { exclusiveMin: true, max: 1_000_000 })
      .refine((rate) => 1000 / rate <= maxTimerMs, { error: `expected at least ${1000 / maxTimerMs} calls per second` })
      .optional(),
    commands: ["simulate", "export artillery"],
    help: { default: "load mode: start calls at this rate (open loop), at most --concurrency in flight", "export artillery": "start calls at this rate (default 1)" },
  }),
  pipelining: setting({
    key: "pipelining",
    flag: "--pipelining <n>",
    schema: integerFlag("requests", { min: 1, max: 100 }).optional(),
    commands: ["simulate"],
    help: "load mode: send up to n requests on a connection before the replies (default: 1; many handlers are not safe with it, see README)",
  }),
  workers: setting({
    key: "workers",
    flag: "--workers <n>",
    schema: integerFlag("threads", { min: 1, max: 64 }),
    default: "1",
    commands: ["simulate"],
    help: "load mode: spread the sender over n worker threads (latency histograms merged exactly)",
  }),
  junit: setting({ key: "junit", flag: "--junit <file>", schema: z.string().min(1).optional(), commands: ["simulate"], help: "also write a JUnit XML report" }),
} as const;
