/**
 * The instruction vocabulary a handler replies with (docs/platforms/vwh.md), and the checker rules that a schema
 * alone cannot express (unreachable instructions, barge-in without a listen).
 */
import * as z from "zod";
import { e164 } from "./envelope.js";

const httpUrl = z.url({ protocol: /^https?$/, error: "expected an http(s) URL" });
const wsUrl = z.url({ protocol: /^wss?$/, error: "expected a ws(s) URL" });
// BCP 47 language tag, as far as a handler is likely to get it wrong (en, en-US, zh-Hant-TW).
const language = z.string().regex(/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, "expected a BCP 47 language tag like en-US");
const positiveInt = z.number().int().positive();
// Platform time a reply asks for is bounded (a day), so the simulated clock it advances stays a valid date (issue 12, item 2).
const platformMs = positiveInt.max(86_400_000);
const platformSeconds = positiveInt.max(86_400);

export const instructionSchemas = {
  speak: z.strictObject({
    type: z.literal("speak"),
    text: z.string().min(1).max(3000),
    voice: z.string().min(1).optional(),
    language: language.optional(),
    barge_in: z.boolean().optional(),
  }),
  play: z.strictObject({
    type: z.literal("play"),
    url: httpUrl,
    loop: positiveInt.max(1000).optional(),
    barge_in: z.boolean().optional(),
  }),
  listen: z.strictObject({
    type: z.literal("listen"),
    input: z
      .array(z.enum(["speech", "dtmf"]))
      .min(1)
      .optional(),
    timeout_ms: platformMs.optional(),
    end_of_speech_ms: platformMs.optional(),
    max_digits: positiveInt.optional(),
    language: language.optional(),
    hints: z.array(z.string()).optional(),
  }),
  stream: z.strictObject({
    type: z.literal("stream"),
    url: wsUrl,
    track: z.enum(["inbound", "outbound", "both"]).optional(),
    bidirectional: z.boolean().optional(),
    chunk_ms: z.number().int().min(20).max(2000).multipleOf(20).optional(),
  }),
  transfer: z.strictObject({
    type: z.literal("transfer"),
    to: z.union([e164, z.string().regex(/^sips?:[^@\s]+@[^\s]+$/)], {
      error: "expected an E.164 number like +15550100001 or a sip: URI",
    }),
    caller_id: e164.optional(),
    timeout_s: platformSeconds.optional(),
  }),
  record: z.strictObject({
    type: z.literal("record"),
    max_duration_s: platformSeconds.optional(),
    silence_timeout_s: platformSeconds.optional(),
    beep: z.boolean().optional(),
  }),
  pause: z.strictObject({ type: z.literal("pause"), duration_ms: platformMs }),
  redirect: z.strictObject({ type: z.literal("redirect"), url: httpUrl }),
  hangup: z.strictObject({ type: z.literal("hangup"), reason: z.string().optional() }),
} as const;

export type InstructionType = keyof typeof instructionSchemas;
export const instructionTypes = Object.keys(instructionSchemas) as InstructionType[];
export const instructionTypeSchema = z.enum(instructionTypes as [InstructionType, ...InstructionType[]]);

export const instructionSchema = z.discriminatedUnion(
  "type",
  Object.values(instructionSchemas) as unknown as [(typeof instructionSchemas)[InstructionType], ...(typeof instructionSchemas)[InstructionType][]],
);
export type Instruction = z.infer<typeof instructionSchema>;

/** The body of a handler's reply. Extra top-level fields are tolerated; instructions are strict. */
export const instructionReplySchema = z.looseObject({ instructions: z.array(instructionSchema) }).meta({
  title: "vwh instruction reply",
  description: "The JSON body a webhook handler answers a voice event with (docs/platforms/vwh.md, What vwh checks in replies).",
});
export type InstructionReply = z.infer<typeof instructionReplySchema>;

export interface RuleViolation {
  path: string;
  message: string;
}

const terminalTypes: ReadonlySet<string> = new Set(["hangup", "transfer", "redirect"]);

function listensAfter(instructions: readonly Instruction[], index: number): boolean {
  for (let next = index + 1; next < instructions.length; next++) if (instructions[next]!.type === "listen") return true;
  return false;
}

/** The rules of docs/platforms/vwh.md that sit across instructions. Assumes every instruction passed the schema. */
export function checkInstructionRules(instructions: readonly Instruction[]): RuleViolation[] {
  const violations: RuleViolation[] = [];
  // Plain loops: this runs on every reply of a load run.
  let terminalIndex = -1;
  for (let index = 0; index < instructions.length && terminalIndex === -1; index++) if (terminalTypes.has(instructions[index]!.type)) terminalIndex = index;
  if (terminalIndex !== -1 && terminalIndex < instructions.length - 1) {
    const terminal = instructions[terminalIndex]!.type;
    violations.push({
      path: `instructions[${terminalIndex + 1}]`,
      message: `unreachable: nothing may follow ${terminal} (instructions[${terminalIndex}])`,
    });
  }
  for (let index = 0; index < instructions.length; index++) {
    const instruction = instructions[index]!;
    if ((instruction.type === "speak" || instruction.type === "play") && instruction.barge_in === true && !listensAfter(instructions, index)) {
      violations.push({
        path: `instructions[${index}].barge_in`,
        message: `barge_in ${instruction.type} must be followed by a listen`,
      });
    }
  }
  return violations;
}
