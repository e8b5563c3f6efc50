/**
 * What a Vapi custom-LLM server streams: OpenAI's `chat.completion.chunk` events (the chat completions
 * streaming format Vapi reads), with tool-call deltas. Loose objects: providers add fields Vapi ignores.
 */
import * as z from "zod";

export const toolCallDelta = z.looseObject({
  index: z.number().int().nonnegative(),
  id: z.string().min(1).optional(),
  type: z.literal("function").optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
});
export const chunkSchema = z.looseObject({
  id: z.string().optional(),
  object: z.literal("chat.completion.chunk", { error: 'expected "chat.completion.chunk"' }).optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().nonnegative().optional(),
      delta: z.looseObject({ role: z.string().optional(), content: z.string().nullable().optional(), tool_calls: z.array(toolCallDelta).optional() }),
      finish_reason: z.string().nullable().optional(),
    }),
  ),
});
