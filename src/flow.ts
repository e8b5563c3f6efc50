/**
 * Call-flow fixtures (SPEC §4): the file format, its validation, and its expansion into the envelopes
 * that are delivered. The domain only: nothing here knows about terminals or HTTP.
 */
import { randomBytes } from "node:crypto";
import * as z from "zod";
import {
  e164,
  eventPayloadSchemas,
  eventTypeSchema,
  isKnownEventType,
  waitsForInstructions,
  type Envelope,
} from "./envelope.js";
import { instructionSchemas, instructionTypeSchema, type InstructionType } from "./instructions.js";
import { readJsonFile } from "./json-file.js";
import { patternProblem } from "./matchers.js";
import { maxTimerMs } from "./limits.js";
import { describeIssue } from "./validation.js";

// Checked with the engine that runs it (src/matchers.ts), so what loads also matches in linear time.
const regexSource = z.string().superRefine((source, ctx) => {
  const problem = patternProblem(source);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

export const valueMatcherSchema = z.union([
  z.strictObject({ contains: z.string().describe("the field must contain this text (case-sensitive)") }),
  z.strictObject({ matches: regexSource.describe("the field must match this regular expression") }),
]);
export type ValueMatcher = z.infer<typeof valueMatcherSchema>;

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
  max_latency_ms: z.number().int().positive().max(maxTimerMs).optional().describe("a hard latency limit for this event"),
  ack_only: z.boolean().optional().describe("the reply must not carry instructions"),
});
export type Expectation = z.infer<typeof expectationSchema>;

/** A request as the tunnel recorded it (SPEC §4): replayed byte for byte, re-signed unless asked not to. */
export const rawRequestSchema = z.strictObject({
  method: z.string().regex(/^[A-Z]+$/, "expected an HTTP method in capitals"),
  // A pattern, not startsWith: zod emits that as a non-standard "format" that strict validators refuse.
  path: z.string().regex(/^\//, "expected a path starting with /").describe("path and query as received"),
  url: z.url().optional().describe("the full URL the sender addressed (Twilio and {url} templates sign it)"),
  headers: z.record(z.string(), z.string()).describe("as received, names in lower case"),
  body: z.string(),
  body_encoding: z.enum(["utf8", "base64"]).default("utf8").describe("base64 when the body was not valid UTF-8"),
  received_at: z.iso.datetime({ offset: true }),
});
export type RawRequest = z.output<typeof rawRequestSchema>;

export function rawBody(raw: Pick<RawRequest, "body" | "body_encoding">): Buffer {
  return Buffer.from(raw.body, raw.body_encoding === "base64" ? "base64" : "utf8");
}

const flowEventSchema = z
  .strictObject({
    event_type: eventTypeSchema.optional().describe("required unless raw is given"),
    raw: rawRequestSchema.optional().describe("a recorded request, replayed as is"),
    event_id: z.string().min(1).optional().describe("default: a fresh id per run"),
    sequence: z.number().int().min(1).optional().describe("default: previous + 1"),
    timestamp: z.iso.datetime({ offset: true }).optional().describe("default: the run's start plus after_ms"),
    after_ms: z.number().int().nonnegative().max(maxTimerMs).optional().describe("platform time since the previous event"),
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
    if (isKnownEventType(event.event_type) && event.payload) {
      const result = eventPayloadSchemas[event.event_type].safeParse(event.payload, { reportInput: true });
      for (const issue of result.error?.issues ?? []) {
        ctx.addIssue({ code: "custom", message: describeIssue(issue), path: ["payload", ...issue.path] });
      }
    }
    if (event.expect?.ack_only && event.expect.instructions?.length) {
      ctx.addIssue({ code: "custom", message: "ack_only contradicts expected instructions", path: ["expect", "ack_only"] });
    }
    if (event.expect?.ack_only && waitsForInstructions(event.event_type)) {
      ctx.addIssue({
        code: "custom",
        message: `${event.event_type} waits for instructions, so its reply cannot be ack_only`,
        path: ["expect", "ack_only"],
      });
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
    call: z
      .strictObject({
        call_id: z.string().min(1).optional().describe("default: a fresh id per run"),
        from: e164.optional(),
        to: e164.optional(),
        direction: z.enum(["inbound", "outbound"]).optional(),
      })
      .optional(),
    events: z.array(flowEventSchema).min(1),
  })
  .superRefine((flow, ctx) => {
    let previousSequence = 0;
    const seenIds = new Map<string, number>();
    flow.events.forEach((event, index) => {
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
  .meta({ title: "vwh call flow", description: "A simulated call: events replayed to a webhook handler (SPEC §4)." });
export type CallFlow = z.infer<typeof callFlowSchema>;

/** What `vwh tunnel --record` writes: a call flow whose events are recorded requests (SPEC §4). */
export const recordingSchema = z
  .strictObject({
    ...fileHeaderShape,
    events: z.array(
      z.strictObject({
        event_type: eventTypeSchema.optional().describe("from the body, when it was a vwh envelope"),
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
}

export async function loadFlow(file: string): Promise<LoadedFlow> {
  const { value } = await readJsonFile(file, callFlowSchema, "call flow");
  return { file, flow: value };
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
  /** The envelope, for events vwh built (absent for raw events). */
  envelope: Envelope | undefined;
  expect: Expectation | undefined;
  /** Platform time since the previous event; `--realtime` waits it. */
  afterMs: number;
}

export interface ExpansionOptions {
  /** Platform time of the first event. */
  start: Date;
  newId?: (prefix: string) => string;
  /** Overrides the flow's call id (load mode runs many copies of a flow). */
  callId?: string;
  /** Ignore event ids given in the flow, so every copy of it gets its own (load mode). */
  freshIds?: boolean;
}

function planRaw(event: FlowEvent & { raw: RawRequest }, index: number, previousAt: number | undefined, newId: (prefix: string) => string): PlannedEvent {
  const { raw } = event;
  const body = rawBody(raw);
  let parsed: Partial<Record<"event_type" | "event_id" | "call_id" | "sequence", unknown>> = {};
  try {
    const value: unknown = JSON.parse(body.toString("utf8"));
    if (value && typeof value === "object" && !Array.isArray(value)) parsed = value as typeof parsed;
  } catch {
    // Not JSON (a form post, say): the recorded headers still identify it.
  }
  const text = (value: unknown) => (typeof value === "string" && value ? value : undefined);
  const receivedAt = Date.parse(raw.received_at);
  return {
    index,
    eventType: text(parsed.event_type) ?? event.event_type ?? "raw",
    eventId: text(parsed.event_id) ?? text(raw.headers["webhook-id"]) ?? newId("evt"),
    callId: text(parsed.call_id) ?? "",
    sequence: typeof parsed.sequence === "number" ? parsed.sequence : index + 1,
    method: raw.method,
    body,
    contentType: raw.headers["content-type"] ?? "application/octet-stream",
    recordedHeaders: raw.headers,
    envelope: undefined,
    expect: event.expect,
    // Recorded times can lie years apart: --realtime waits at most what a timer can (issue 12, item 2).
    afterMs: event.after_ms ?? (previousAt === undefined ? 0 : Math.min(maxTimerMs, Math.max(0, receivedAt - previousAt))),
  };
}

/** Fills in ids, sequences and timestamps (SPEC §4) and returns the deliveries in order. */
export function expandFlow(flow: CallFlow, options: ExpansionOptions): PlannedEvent[] {
  const newId = options.newId ?? randomId;
  const callId = options.callId ?? flow.call?.call_id ?? newId("call");
  let clock = options.start.getTime();
  let sequence = 0;
  let previousRawAt: number | undefined;
  return flow.events.map((event, index) => {
    if (event.raw) {
      const planned = planRaw(event as FlowEvent & { raw: RawRequest }, index, previousRawAt, newId);
      previousRawAt = Date.parse(event.raw.received_at);
      return planned;
    }
    const eventType = event.event_type!;
    const afterMs = event.after_ms ?? 0;
    clock = event.timestamp !== undefined ? Date.parse(event.timestamp) : clock + afterMs;
    sequence = event.sequence ?? sequence + 1;
    let payload: Record<string, unknown> = event.payload ?? {};
    if (eventType === "call.started") {
      const { from, to, direction } = flow.call ?? {};
      payload = { ...(from && { from }), ...(to && { to }), ...(direction && { direction }), ...payload };
    }
    // Built from a validated flow, so it is a valid envelope by construction (SPEC §1 field order).
    const envelope: Envelope = {
      event_type: eventType,
      event_id: (options.freshIds ? undefined : event.event_id) ?? newId("evt"),
      call_id: callId,
      sequence,
      timestamp: event.timestamp ?? new Date(clock).toISOString(),
      payload,
    };
    return {
      index,
      eventType,
      eventId: envelope.event_id,
      callId,
      sequence,
      method: "POST",
      body: Buffer.from(JSON.stringify(envelope)),
      contentType: "application/json",
      recordedHeaders: undefined,
      envelope,
      expect: event.expect,
      afterMs,
    };
  });
}
