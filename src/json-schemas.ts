/** The JSON Schemas of vwh's file formats, generated from the zod schemas vwh itself validates with. */
import * as z from "zod";
import { configSchema } from "./config-schema.js";
import { callFlowSchema, recordingSchema } from "./flow.js";
import { instructionReplySchema } from "./platforms/vwh/instructions.js";

const formats = {
  "call-flow": callFlowSchema,
  instructions: instructionReplySchema,
  recording: recordingSchema,
  config: configSchema,
} as const;
export type SchemaFormat = keyof typeof formats;
export const schemaFormats = Object.keys(formats) as SchemaFormat[];

export function jsonSchemaFor(format: SchemaFormat): Record<string, unknown> {
  const schema = z.toJSONSchema(formats[format], { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  // A call flow has events or a script, never both: the refinement that says so, in JSON Schema terms.
  if (format === "call-flow") schema["oneOf"] = [{ required: ["events"] }, { required: ["script"] }];
  return schema;
}
