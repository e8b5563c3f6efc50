/**
 * Caller scripts (README: Platforms and caller scripts): what the caller does, step by step, and what the handler must have told the
 * platform by the time it waits for the caller again. The platform decides the webhooks.
 */
import * as z from "zod";
import { actionExpectationSchema, nativeExpectationSchema, valueMatcherSchema } from "../checks/expectations.js";
import type { CallerInput } from "../platforms/types.js";

const httpStatus = z.number().int().min(100).max(599);
// Platform times are bounded so that what validates also runs (a day is longer than any call).
const platformMs = z.number().int().nonnegative().max(86_400_000, "expected at most 86400000 (a day)");
const textMatcher = z.union([z.string(), valueMatcherSchema], { error: "expected text, or { contains } / { matches }" });

export const endReasons = ["caller_hangup", "handler_hangup", "transferred", "rejected", "failed", "timeout"] as const;

export const turnExpectationSchema = z.strictObject({
  actions: z.array(actionExpectationSchema).optional().describe("the normalised actions of the turn, in order: type names or partial actions with matchers"),
  says: textMatcher.optional().describe("matcher over everything spoken (or played as text) in the turn"),
  ends: z
    .union([z.boolean(), z.enum(endReasons)])
    .optional()
    .describe("true: the call ends in this turn; false: it does not; or how it ends"),
  transfers_to: textMatcher.optional().describe("matcher over the transfer target"),
  listens_for: z
    .enum(["dtmf", "speech"])
    .optional()
    .describe(
      "the turn ends with the platform listening for this input (a listen action taking it; a listen that names no input takes the platform's default, e.g. dtmf for Twilio's Gather)",
    ),
  result: z
    .union([textMatcher, z.strictObject({ equals: z.unknown().describe("the whole tool result, exactly") }), z.record(z.string(), z.unknown())])
    .optional()
    .describe(
      'AI platforms: the tool result — text or a matcher; an object matches partially, like actions (each field it names, matchers allowed); { "equals": … } for the exact value',
    ),
  native: z.array(nativeExpectationSchema).min(1).optional().describe("platform-specific checks over the native replies of the turn"),
  status: z
    .union([httpStatus, z.array(httpStatus).min(1)], { error: "expected an HTTP status or a list of them" })
    .optional()
    .describe("for every webhook of the turn (default: any 2xx)"),
  max_latency_ms: z.number().int().positive().max(86_400_000).optional().describe("a hard latency limit for every webhook of the turn"),
  first_audio_ms: z
    .number()
    .int()
    .positive()
    .max(600_000)
    .optional()
    .describe("media streams: the most time from the caller's last input to the agent's first audio (ConversationRelay: first token)"),
  stops_on_interrupt: z
    .boolean()
    .optional()
    .describe("media streams, on an interrupt step: whether the agent stops its audio (clear) when the caller talks over it"),
});
export type TurnExpectation = z.infer<typeof turnExpectationSchema>;

// Bounded: each key is a webhook or 20 ms frames of a stream, each w half a second (a megabyte of w was days of frames).
export const maxPressKeys = 100;
const dtmf = z
  .string()
  .regex(/^[0-9*#A-Dw]+$/, "expected DTMF digits (0-9, *, #, A-D, w for a pause)")
  .max(maxPressKeys, `expected at most ${maxPressKeys} keys`);

/** The caller actions of a step; a step has one, except the first, which may be the call connecting. */
export const callerActionFields = ["say", "press", "silence_ms", "hangup", "interrupt", "tool", "event"] as const;

export const scriptStepSchema = z
  .strictObject({
    say: z.string().min(1).max(3000).optional().describe("the caller says this when the platform listens"),
    confidence: z.number().min(0).max(1).optional().describe("speech recognition confidence of say/interrupt (default 0.92)"),
    audio: z
      .string()
      .min(1)
      .optional()
      .describe("media streams: a WAV recording (PCM) of the say/interrupt, relative to the script file; default: a synthesised tone pattern"),
    press: dtmf.optional().describe("the caller presses these keys when the platform listens"),
    silence_ms: platformMs.optional().describe("the caller says nothing for this long: the listen times out"),
    hangup: z.literal(true).optional().describe("the caller hangs up here"),
    interrupt: z.string().min(1).max(3000).optional().describe("the caller talks over the prompt (barge-in)"),
    tool: z
      .strictObject({ name: z.string().min(1), arguments: z.record(z.string(), z.unknown()).default({}) })
      .optional()
      .describe("AI platforms: the assistant calls the handler's tool"),
    event: z
      .strictObject({ type: z.string().min(1), payload: z.record(z.string(), z.unknown()).default({}) })
      .optional()
      .describe("escape hatch: one native event, sent as the platform would"),
    after_ms: platformMs
      .optional()
      .describe(
        "hangup, press, say, interrupt on twilio, vonage, plivo (telnyx: hangup, press): the caller acts this long after the start of the turn's audio, during playback — barge-in where the prompt allows it, else the act is lost and the prompt plays on; past the end of the audio it acts when the line goes quiet (the report says so). Other steps and platforms: platform time before the step",
      ),
    description: z.string().optional(),
    expect: turnExpectationSchema.optional(),
  })
  .superRefine((step, ctx) => {
    const given = callerActionFields.filter((field) => step[field] !== undefined);
    if (given.length > 1) {
      ctx.addIssue({ code: "custom", message: `one caller action per step, got ${given.join(" and ")}`, path: [given[1]!] });
    }
    if (step.confidence !== undefined && step.say === undefined && step.interrupt === undefined) {
      ctx.addIssue({ code: "custom", message: "confidence goes with say or interrupt", path: ["confidence"] });
    }
    if (step.audio !== undefined && step.say === undefined && step.interrupt === undefined) {
      ctx.addIssue({ code: "custom", message: "audio goes with say or interrupt", path: ["audio"] });
    }
  });
export type ScriptStep = z.output<typeof scriptStepSchema>;

export const scriptSchema = z
  .array(scriptStepSchema)
  .min(1)
  .superRefine((steps, ctx) => {
    steps.forEach((step, index) => {
      if (index > 0 && !callerActionFields.some((field) => step[field] !== undefined)) {
        ctx.addIssue({
          code: "custom",
          message: `expected a caller action (${callerActionFields.join(", ")}); only the first step may have none`,
          path: [index],
        });
      }
    });
  });

export function callerInput(step: ScriptStep): CallerInput {
  const confidence = step.confidence ?? 0.92;
  if (step.say !== undefined) return { kind: "say", text: step.say, confidence };
  if (step.press !== undefined) return { kind: "press", digits: step.press };
  if (step.silence_ms !== undefined) return { kind: "silence", ms: step.silence_ms };
  if (step.hangup) return { kind: "hangup" };
  if (step.interrupt !== undefined) return { kind: "interrupt", text: step.interrupt, confidence };
  if (step.tool) return { kind: "tool", name: step.tool.name, arguments: step.tool.arguments };
  if (step.event) return { kind: "event", type: step.event.type, payload: step.event.payload };
  return { kind: "connect" };
}

/** How a step reads in reports: `say "I want to reschedule"`, `press 1`, `connect`. */
export function describeStep(step: ScriptStep): string {
  const input = callerInput(step);
  switch (input.kind) {
    case "say":
    case "interrupt":
      return `${input.kind} ${JSON.stringify(input.text.length > 40 ? `${input.text.slice(0, 37)}...` : input.text)}`;
    case "press":
      return `press ${input.digits}`;
    case "silence":
      return `silence ${input.ms} ms`;
    case "tool":
      return `tool ${input.name}`;
    case "event":
      return `event ${input.type}`;
    default:
      return input.kind;
  }
}
