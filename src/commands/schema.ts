/** `vwh schema <format>`: the JSON Schema generated from the zod schemas the tool itself validates with. */
import * as z from "zod";
import { configSchema } from "../config.js";
import { callFlowSchema, recordingSchema } from "../flow.js";
import { instructionReplySchema } from "../platforms/vwh/instructions.js";
import { globalOptionsSchema, parseOptions } from "../options.js";
import { createOutput, type Streams } from "../ui/output.js";

const formats = {
  "call-flow": callFlowSchema,
  instructions: instructionReplySchema,
  recording: recordingSchema,
  config: configSchema,
} as const;

export function jsonSchemaFor(format: keyof typeof formats): Record<string, unknown> {
  const schema = z.toJSONSchema(formats[format], { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  // A call flow has events or a script, never both: the refinement that says so, in JSON Schema terms.
  if (format === "call-flow") schema["oneOf"] = [{ required: ["events"] }, { required: ["script"] }];
  return schema;
}

export async function schemaCommand(format: string, rawOptions: unknown, streams?: Streams): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  createOutput(options, process.env, streams).out(JSON.stringify(jsonSchemaFor(format as keyof typeof formats), null, 2));
}
