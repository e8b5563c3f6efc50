/** `vwh schema <format>`: prints the JSON Schema of a file format (src/json-schema.ts). */
import { jsonSchemaFor, type SchemaFormat } from "../json-schema.js";
import { globalOptionsSchema, parseOptions } from "../options.js";
import { createOutput } from "../ui/output.js";

export async function schemaCommand(format: string, rawOptions: unknown): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  createOutput(options).out(JSON.stringify(jsonSchemaFor(format as SchemaFormat), null, 2));
}
