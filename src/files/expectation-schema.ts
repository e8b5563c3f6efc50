/**
 * The `expect` block of a call-flow event or caller-script turn: what the handler's reply must hold.
 */
import * as z from "zod";
import { actionExpectationSchema, nativeExpectationSchema, valueMatcherSchema } from "../checks/expectations.js";
import { instructionSchemas, instructionTypeSchema, type InstructionType } from "../platforms/vwh/grammar.js";

export function unwrapOptional(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodOptional ? (schema.unwrap() as z.ZodType) : schema;
}

/** For each instruction type: a partial instruction whose fields may also be matchers. */
export function partialExpectation<T extends InstructionType>(type: T) {
  const shape: Record<string, z.ZodType> = { type: z.literal(type) };
  for (const [field, fieldSchema] of Object.entries(instructionSchemas[type].shape)) {
    if (field !== "type") shape[field] = z.union([valueMatcherSchema, unwrapOptional(fieldSchema as z.ZodType)]).optional();
  }
  return z.strictObject(shape);
}

export const instructionExpectationSchema = z.union([
  instructionTypeSchema,
  z.discriminatedUnion(
    "type",
    instructionTypeSchema.options.map(partialExpectation) as unknown as [ReturnType<typeof partialExpectation>, ...ReturnType<typeof partialExpectation>[]],
  ),
]);

export const httpStatus = z.number().int().min(100).max(599);

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
