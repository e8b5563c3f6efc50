/** `vwh schema <format>`: prints the JSON Schema of a file format (src/json-schema.ts). */
import { jsonSchemaFor, type SchemaFormat } from "../json-schemas.js";
import { globalOptionsSchema, parseOptions } from "../options.js";
import { createOutput, type Streams } from "../ui/output.js";

export async function schemaCommand(format: string, rawOptions: unknown, streams?: Streams): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  createOutput(options, process.env, streams).out(JSON.stringify(jsonSchemaFor(format as SchemaFormat), null, 2));
}
