/** `vwh schema <format>`: the JSON Schema generated from the zod schemas the tool itself validates with. */
import { jsonSchemaFor, type SchemaFormat } from "../json-schemas.js";
import { globalOptionsSchema, parseOptions } from "../options.js";
import { createOutput, type Streams } from "../ui/output.js";

export async function schemaCommand(format: string, rawOptions: unknown, streams?: Streams): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  createOutput(options, process.env, streams).out(JSON.stringify(jsonSchemaFor(format as SchemaFormat), null, 2));
}
