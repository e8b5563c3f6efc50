/**
 * Call-flow fixtures (SPEC §4): the file format, its validation, and its expansion into the envelopes
 * that are delivered. The domain only: nothing here knows about terminals or HTTP.
 */
import { randomBytes } from "node:crypto";
import { dirname, resolve } from "node:path";
import * as z from "zod";
import { callerActionFields, scriptSchema, type ScriptStep } from "./caller-script.js";
import { InputError } from "./errors.js";
import { actionExpectationSchema, nativeExpectationSchema, valueMatcherSchema } from "./expectations.js";
import { describeProblems, readJsonFile } from "./json-file.js";
import { maxTimerMs } from "./limits.js";
import { isPlatformId, loadPlatform, platformIds, type PlatformId } from "./platforms/registry.js";
import type { CallerInput, CallInfo, Platform, WebhookRequest } from "./platforms/types.js";
// The `instructions` expectation predates the platform seam: partial vwh instructions (SPEC §4).
import { e164 } from "./platforms/vwh/envelope.js";
import { instructionSchemas, instructionTypeSchema, type InstructionType } from "./platforms/vwh/instructions.js";
import { describeIssue, formatJsonPath, issuesToProblems, type Problem } from "./validation.js";

export { valueMatcherSchema, type ValueMatcher } from "./expectations.js";

function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

/** For each instruction type: a partial instruction whose fields may also be matchers. */
function partialExpectation<T extends InstructionType>(type: T) {
  const shape: Record<string, z.ZodType> = { type: z.literal(type) };
  for (const [field, fieldSchema] of Object.entries(instructionSchemas[type].shape)) {
    if (field !== "type") shape[field] = z.union([valueMatcherSchema, unwrapOptional(fieldSchema as z.ZodType)]).optional();
  }
  return z.strictObject(shape);
}

const instructionExpectationSchema = z.union([
  instructionTypeSchema,
  z.discriminatedUnion(
    "type",
    instructionTypeSchema.options.map(partialExpectation) as unknown as [
      ReturnType<typeof partialExpectation>,
      ...ReturnType<typeof partialExpectation>[],
    ],
  ),
]);

const httpStatus = z.number().int().min(100).max(599);

export const expectationSchema = z.strictObject({
  status: z
    .union([httpStatus, z.array(httpStatus).min(1)], { error: "expected an HTTP status or a list of them" })
    .optional()
    .describe("expected status (default: any 2xx)"),
  instructions: z
    .array(instructionExpectationSchema)
    .optional()
    .describe("the reply's instructions in order: type names, or partial instructions with matchers"),
  actions: z.array(actionExpectationSchema).optional().describe("the reply's normalised actions in order (any platform)"),
  native: z.array(nativeExpectationSchema).min(1).optional().describe("platform-specific checks over the native reply"),
  max_latency_ms: z.number().int().positive().max(86_400_000).optional().describe("a hard latency limit for this event"),
  ack_only: z.boolean().optional().describe("the reply must not carry instructions"),
});
export type Expectation = z.infer<typeof expectationSchema>;

/** The handler's reply to a recorded request (issue 11): a golden snapshot for `simulate --compare-replies`. */
export const recordedResponseSchema = z.strictObject({
  status: z.number().int().min(100).max(599),
  headers: z.record(z.string(), z.string()).describe("names in lower case; credentials removed"),
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]).default("utf8").describe("base64 when the body was not valid UTF-8"),
  latency_ms: z.number().nonnegative().optional(),
  truncated: z.strictObject({ bytes: z.number().int().nonnegative() }).optional().describe("set when body holds only the first bytes of a longer reply (its full size)"),
});
export type RecordedResponse = z.output<typeof recordedResponseSchema>;

/** A request as the tunnel recorded it (SPEC §4): replayed byte for byte, re-signed unless asked not to. */
export const rawRequestSchema = z.strictObject({
  method: z.string().regex(/^[A-Z]+$/, "expected an HTTP method in capitals"),
  // Any target the tunnel saw loads (issue 11, defect 3); replay sends only origin-form paths.
  path: z.string().min(1).describe("request target as received: path and query"),
  url: z.url().optional().describe("the full URL the sender addressed (Twilio and {url} templates sign it)"),
  headers: z.record(z.string(), z.string()).describe("as received, names in lower case"),
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]).default("utf8").describe("base64 when the body was not valid UTF-8"),
  received_at: z.iso.datetime({ offset: true }),
  response: recordedResponseSchema.optional().describe("the handler's reply, as the tunnel saw it"),
});
export type RawRequest = z.output<typeof rawRequestSchema>;

export function rawBody(raw: Pick<RawRequest, "body" | "body_encoding">): Buffer {
  return Buffer.from(raw.body, raw.body_encoding === "base64" ? "base64" : "utf8");
}

const flowEventSchema = z
  .strictObject({
    event_type: z.string().min(1).optional().describe("required unless raw is given; one of the platform's event types"),
    raw: rawRequestSchema.optional().describe("a recorded request, replayed as is"),
    event_id: z.string().min(1).optional().describe("default: a fresh id per run"),
    sequence: z.number().int().min(1).optional().describe("default: previous + 1"),
    timestamp: z.iso.datetime({ offset: true }).optional().describe("default: the run's start plus after_ms"),
    after_ms: z.number().int().nonnegative().max(86_400_000, "expected at most 86400000 (a day)").optional().describe("platform time since the previous event"),
    description: z.string().optional(),
    payload: z.record(z.string(), z.unknown()).optional(),
    expect: expectationSchema.optional(),
  })
  .superRefine((event, ctx) => {
    if (event.raw) {
      for (const field of ["payload", "event_id", "sequence", "timestamp"] as const) {
        if (event[field] !== undefined) ctx.addIssue({ code: "custom", message: `a raw event is replayed as recorded: remove ${field}`, path: [field] });
      }
      return;
    }
    if (event.event_type === undefined) {
      ctx.addIssue({ code: "custom", message: "required (a string), or a recorded raw request", path: ["event_type"] });
      return;
    }
    if (event.expect?.ack_only && (event.expect.instructions?.length || event.expect.actions?.length)) {
      ctx.addIssue({ code: "custom", message: "ack_only contradicts expected instructions", path: ["expect", "ack_only"] });
    }
    if (event.expect?.instructions && event.expect.actions) {
      ctx.addIssue({ code: "custom", message: "give instructions or actions, not both", path: ["expect", "actions"] });
    }
  });
export type FlowEvent = z.infer<typeof flowEventSchema>;

/** The fields every flow-shaped file starts with (call flows and recordings). */
const fileHeaderShape = {
  $schema: z.string().optional(),
  version: z.literal(1),
  name: z.string().min(1),
  description: z.string().optional(),
};

export const callFlowSchema = z
  .strictObject({
    ...fileHeaderShape,
    platform: z.enum(platformIds).optional().describe("the platform this file speaks (default: --platform, else vwh); it wins over --platform"),
    call: z
      .strictObject({
        call_id: z.string().min(1).optional().describe("default: a fresh id per run"),
        from: e164.optional(),
        to: e164.optional(),
        direction: z.enum(["inbound", "outbound"]).optional(),
      })
      .optional(),
    settings: z.record(z.string(), z.unknown()).optional().describe("platform-specific settings (e.g. vapi_tool_shape); flags override them"),
    events: z.array(flowEventSchema).min(1).optional().describe("scripted flow: the platform's events in order (SPEC §4)"),
    script: scriptSchema.optional().describe("caller script: what the caller does; vwh plays the platform (SPEC §7)"),
  })
  .superRefine((flow, ctx) => {
    if (flow.events && flow.script) ctx.addIssue({ code: "custom", message: "a file has either events or script, not both", path: ["script"] });
    if (!flow.events && !flow.script) ctx.addIssue({ code: "custom", message: "required: events (a scripted flow) or script (a caller script)", path: ["events"] });
    let previousSequence = 0;
    const seenIds = new Map<string, number>();
    flow.events?.forEach((event, index) => {
      const sequence = event.sequence ?? previousSequence + 1;
      if (sequence <= previousSequence) {
        ctx.addIssue({
          code: "custom",
          message: `expected a sequence greater than ${previousSequence} (sequences strictly increase)`,
          path: ["events", index, "sequence"],
        });
      }
      previousSequence = sequence;
      if (event.event_id !== undefined) {
        const first = seenIds.get(event.event_id);
        if (first !== undefined) {
          ctx.addIssue({
            code: "custom",
            message: `duplicate event_id ${JSON.stringify(event.event_id)} (also events[${first}]); ids must be unique`,
            path: ["events", index, "event_id"],
          });
        } else seenIds.set(event.event_id, index);
      }
    });
  })
  .meta({ title: "vwh call flow", description: "A simulated call: events replayed to a webhook handler (SPEC §4), or a caller script the simulated platform reacts to (SPEC §7)." });
export type CallFlow = z.infer<typeof callFlowSchema>;

/** What `vwh tunnel --record` writes: a call flow whose events are recorded requests (SPEC §4). */
export const recordingSchema = z
  .strictObject({
    ...fileHeaderShape,
    events: z.array(
      z.strictObject({
        event_type: z.string().min(1).optional().describe("from the request, as its platform identifies it"),
        raw: rawRequestSchema,
        expect: expectationSchema.optional(),
      }),
    ),
  })
  .meta({ title: "vwh recording", description: "Requests recorded by vwh tunnel --record; a valid call flow for vwh simulate." });
export type Recording = z.infer<typeof recordingSchema>;

export interface LoadedFlow {
  file: string;
  flow: CallFlow;
  platform: Platform;
}

/** A scripted flow, or a caller script: the engine runs the two differently. */
export type FlowBody = { kind: "events"; events: FlowEvent[] } | { kind: "script"; steps: ScriptStep[] };

export function flowBody(flow: CallFlow): FlowBody {
  return flow.script ? { kind: "script", steps: flow.script } : { kind: "events", events: flow.events ?? [] };
}

const stepInputKind: Record<(typeof callerActionFields)[number], CallerInput["kind"]> = {
  say: "say",
  press: "press",
  silence_ms: "silence",
  hangup: "hangup",
  interrupt: "interrupt",
  tool: "tool",
  event: "event",
};

/** What the file asks of its platform that the platform does not have: event types, payloads, actions, steps. */
export function platformProblems(flow: CallFlow, platform: Platform): Problem[] {
  const problems: Problem[] = [];
  const add = (rawPath: PropertyKey[], message: string) => problems.push({ path: formatJsonPath(rawPath), rawPath, message });
  const checkActions = (expected: readonly unknown[] | undefined, at: PropertyKey[]) =>
    expected?.forEach((item, index) => {
      const type = typeof item === "string" ? item : (item as { type: string }).type;
      if (!platform.actions.includes(type as never)) add([...at, index], `${platform.id} replies cannot produce ${JSON.stringify(type)} (it has ${platform.actions.join(", ")})`);
    });
  flow.events?.forEach((event, index) => {
    if (event.raw || event.event_type === undefined) return;
    const typeCheck = platform.eventType.safeParse(event.event_type, { reportInput: true });
    if (!typeCheck.success) {
      add(["events", index, "event_type"], `${typeCheck.error.issues[0] ? describeIssue(typeCheck.error.issues[0]) : "unknown event type"}${platform.id === "vwh" ? "" : ` for platform ${platform.id}`}`);
      return;
    }
    const spec = platform.events[event.event_type];
    if (spec && event.payload) {
      for (const issue of spec.payload.safeParse(event.payload, { reportInput: true }).error?.issues ?? []) {
        add(["events", index, "payload", ...issue.path], describeIssue(issue));
      }
    }
    if (event.expect?.ack_only && spec?.waits) add(["events", index, "expect", "ack_only"], `${event.event_type} waits for instructions, so its reply cannot be ack_only`);
    checkActions(event.expect?.actions, ["events", index, "expect", "actions"]);
  });
  if (flow.settings && platform.settings) {
    for (const issue of platform.settings.safeParse(flow.settings, { reportInput: true }).error?.issues ?? []) add(["settings", ...issue.path], describeIssue(issue));
  }
  flow.script?.forEach((step, index) => {
    for (const field of callerActionFields) {
      if (step[field] !== undefined && !platform.callerInputs.includes(stepInputKind[field])) {
        add(["script", index, field], `the ${platform.id} platform has no ${field} step (it takes ${callerActionFields.filter((f) => platform.callerInputs.includes(stepInputKind[f])).join(", ")})`);
      }
    }
    checkActions(step.expect?.actions, ["script", index, "expect", "actions"]);
  });
  return problems;
}

/** Recordings a script's steps play on media streams (`audio`, relative to the file) that cannot be played. */
async function audioProblems(file: string, flow: CallFlow): Promise<Problem[]> {
  const steps = (flow.script ?? []).map((step, index) => ({ audio: step.audio, index })).filter((step) => step.audio !== undefined);
  if (steps.length === 0) return [];
  const { wavProblem } = await import("./media/audio.js");
  const problems: Problem[] = [];
  for (const { audio, index } of steps) {
    const problem = await wavProblem(resolve(dirname(file), audio!));
    if (problem) problems.push({ path: formatJsonPath(["script", index, "audio"]), rawPath: ["script", index, "audio"], message: `${audio}: ${problem}` });
  }
  return problems;
}

/** Reads and validates a flow, a caller script or a recording, against its platform too. */
export async function loadFlow(file: string, defaultPlatform: PlatformId = "vwh"): Promise<LoadedFlow> {
  const { value, text } = await readJsonFile(file, callFlowSchema, "call flow");
  return withPlatform(file, value, text, defaultPlatform);
}

/** A flow given as a value (the programmatic API): validated as a file would be; `name` stands for its file. */
export async function flowFromValue(value: unknown, name: string, defaultPlatform: PlatformId = "vwh"): Promise<LoadedFlow> {
  const result = callFlowSchema.safeParse(value, { reportInput: true });
  if (!result.success) throw new InputError(describeProblems(name, undefined, issuesToProblems(result.error)));
  return withPlatform(name, result.data, undefined, defaultPlatform);
}

async function withPlatform(file: string, value: CallFlow, text: string | undefined, defaultPlatform: PlatformId): Promise<LoadedFlow> {
  const id = value.platform ?? defaultPlatform;
  if (!isPlatformId(id)) throw new InputError(`${file}: unknown platform ${JSON.stringify(id)} (expected one of ${platformIds.join(", ")})`);
  const platform = await loadPlatform(id);
  const problems = [...platformProblems(value, platform), ...(await audioProblems(file, value))];
  if (problems.length) throw new InputError(describeProblems(file, text, problems));
  return { file, flow: value, platform };
}

// Ids are a random per-process part plus a counter: unique within a run and across runs (72 random
// bits), and cheap enough for load mode, where a fresh randomBytes() per id was the top cost.
const processPart = randomBytes(9).toString("base64url");
let idCounter = 0;

export function randomId(prefix: string): string {
  return `${prefix}_${processPart}${(idCounter++).toString(36)}`;
}

export interface PlannedEvent {
  index: number;
  eventType: string;
  eventId: string;
  callId: string;
  sequence: number;
  method: string;
  /** The exact bytes to send (a retry sends them again). */
  body: Buffer;
  contentType: string;
  /** Recorded headers to send along (raw events only). */
  recordedHeaders: Record<string, string> | undefined;
  /** Headers the platform sends besides the signature (built events only). */
  platformHeaders: Record<string, string>;
  /** The request as the platform built it (absent for recorded requests). */
  request: WebhookRequest | undefined;
  /** The recorded path and query (raw events only), kept on replay unless --url has a path. */
  recordedPath?: string;
  /** The handler's recorded reply (raw events only), for --compare-replies. */
  recordedResponse?: RecordedResponse;
  expect: Expectation | undefined;
  /** Platform time since the previous event; `--realtime` waits it. */
  afterMs: number;
}

export interface ExpansionOptions {
  /** Platform time of the first event. */
  start: Date;
  /** The URL the platform is configured with (signed over; the public URL behind a tunnel). */
  url: URL;
  newId?: (prefix: string) => string;
  /** Overrides the flow's call id (load mode runs many copies of a flow). */
  callId?: string | undefined;
  /** Ignore event ids given in the flow, so every copy of it gets its own (load mode). */
  freshIds?: boolean;
}

function planRaw(event: FlowEvent & { raw: RawRequest }, index: number, previousAt: number | undefined, platform: Platform, newId: (prefix: string) => string): PlannedEvent {
  const { raw } = event;
  const body = rawBody(raw);
  const identity = platform.identify({ method: raw.method, path: raw.path, headers: raw.headers, body });
  const receivedAt = Date.parse(raw.received_at);
  let sequence = index + 1;
  try {
    const value = (JSON.parse(body.toString("utf8")) as { sequence?: unknown } | null)?.sequence;
    if (typeof value === "number") sequence = value;
  } catch {
    // Not JSON (a form post, say): recorded order stands.
  }
  return {
    index,
    eventType: identity.eventType ?? event.event_type ?? "raw",
    eventId: identity.eventId ?? newId("evt"),
    callId: identity.callId ?? "",
    sequence,
    method: raw.method,
    body,
    contentType: raw.headers["content-type"] ?? "application/octet-stream",
    recordedHeaders: raw.headers,
    platformHeaders: {},
    request: undefined,
    recordedPath: raw.path,
    ...(raw.response && { recordedResponse: raw.response }),
    expect: event.expect,
    // Recorded times can lie years apart: --realtime waits at most what a timer can (issue 12, item 2).
    afterMs: event.after_ms ?? (previousAt === undefined ? 0 : Math.min(maxTimerMs, Math.max(0, receivedAt - previousAt))),
  };
}

/** The call a flow describes, with its id decided. */
export function callInfo(flow: CallFlow, callId: string): CallInfo {
  return { callId, from: flow.call?.from, to: flow.call?.to, direction: flow.call?.direction };
}

// One object for every event without a payload, so encoders can keep what they made of it (load mode).
const noPayload: Readonly<Record<string, unknown>> = Object.freeze({});

/** Fills in ids, sequences and timestamps (SPEC §4) and has the platform build each request, in order. */
export function expandFlow(loaded: Pick<LoadedFlow, "flow" | "platform">, options: ExpansionOptions): PlannedEvent[] {
  const { flow, platform } = loaded;
  const newId = options.newId ?? randomId;
  const callId = options.callId ?? flow.call?.call_id ?? newId("call");
  const call = callInfo(flow, callId);
  let clock = options.start.getTime();
  let sequence = 0;
  let previousRawAt: number | undefined;
  return (flow.events ?? []).map((event, index) => {
    if (event.raw) {
      const planned = planRaw(event as FlowEvent & { raw: RawRequest }, index, previousRawAt, platform, newId);
      previousRawAt = Date.parse(event.raw.received_at);
      return planned;
    }
    const eventType = event.event_type ?? "";
    const afterMs = event.after_ms ?? 0;
    clock = event.timestamp !== undefined ? Date.parse(event.timestamp) : clock + afterMs;
    sequence = event.sequence ?? sequence + 1;
    const eventId = (options.freshIds ? undefined : event.event_id) ?? newId("evt");
    const request = platform.encode({ eventType, eventId, sequence, timestamp: new Date(clock), payload: event.payload ?? noPayload, call, url: options.url });
    return {
      index,
      eventType,
      eventId,
      callId,
      sequence,
      method: request.method,
      body: request.body,
      contentType: request.contentType ?? "application/octet-stream",
      recordedHeaders: undefined,
      platformHeaders: request.headers,
      request,
      expect: event.expect,
      afterMs,
    };
  });
}
