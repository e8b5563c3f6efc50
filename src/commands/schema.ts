/** `vwh schema <format>`: prints the JSON Schema of a file format (src/json-schema.ts). */
import { jsonSchemaFor, type SchemaFormat } from "../files/json-schemas.js";
import { globalOptionsSchema, parseOptions } from "../cli/parse-options.js";
import { createOutput, type Streams } from "../ui/output.js";

export async function schemaCommand(format: string, rawOptions: unknown, streams?: Streams): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  createOutput(options, process.env, streams).out(JSON.stringify(jsonSchemaFor(format as SchemaFormat), null, 2));
}
