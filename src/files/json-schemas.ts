/**
 * The JSON Schemas `vwh schema` prints and `vwh init` writes: generated from the zod schemas the tool itself validates with,
 * plus, for call flows, the cross-field rules zod checks in refinements (per-event payloads such as
 * confidence ≤ 1 and DTMF digits, raw versus built events, ack_only) written as standard
 * `if`/`then` keywords, so strict validators (Ajv's default mode) accept the schema and enforce them
 * too (issue 12, item 9).
 */
import * as z from "zod";
import { configSchema } from "../cli/config-schema.js";
import { callFlowSchema, recordingSchema } from "./call-flow.js";
import { eventPayloadSchemas, waitsForInstructions, type KnownEventType } from "../platforms/vwh/envelope.js";
import { instructionReplySchema } from "../platforms/vwh/grammar.js";

const formats = {
  "call-flow": callFlowSchema,
  instructions: instructionReplySchema,
  recording: recordingSchema,
  config: configSchema,
} as const;
export type SchemaFormat = keyof typeof formats;
export const schemaFormats = Object.keys(formats) as SchemaFormat[];
type JsonSchema = Record<string, unknown>;

function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
}

// Each required field is also declared (Ajv's strictRequired wants it in the same subschema).
const has = (...fields: string[]) => ({ type: "object", properties: Object.fromEntries(fields.map((field) => [field, {}])), required: fields });
const eventTypeIs = (types: string[]) => ({
  type: "object",
  properties: { event_type: types.length === 1 ? { const: types[0] } : { enum: types } },
  required: ["event_type"],
});
const ackOnly = { type: "object", properties: { ack_only: { const: true } }, required: ["ack_only"] };
const expectWith = (field: string) => ({
  type: "object",
  required: ["expect"],
  properties: { expect: { ...ackOnly, properties: { ...ackOnly.properties, [field]: { type: "array", minItems: 1 } }, required: ["ack_only", field] } },
});

/** The refinements of a flow event (src/flow.ts) that hold on every platform, as standard keywords. */
function flowEventRules(): JsonSchema[] {
  return [
    // event_type is required unless the event is a recorded raw request, which carries its own ids.
    { anyOf: [has("event_type"), has("raw")] },
    { if: has("raw"), then: { not: { anyOf: ["payload", "event_id", "sequence", "timestamp"].map((field) => has(field)) } } },
    // ack_only contradicts expected instructions or actions; one may give instructions or actions, not both.
    { not: expectWith("instructions") },
    { not: expectWith("actions") },
    { not: { type: "object", required: ["expect"], properties: { expect: has("instructions", "actions") } } },
  ];
}

/** The vwh platform's own rules (src/platforms/vwh): payloads per event type, no ack_only where it waits. */
function vwhEventRules(): JsonSchema[] {
  const types = Object.keys(eventPayloadSchemas) as KnownEventType[];
  const payloadRules = types.map((type) => {
    const { $schema: _ignored, ...payload } = toJsonSchema(eventPayloadSchemas[type]);
    return { if: eventTypeIs([type]), then: { type: "object", properties: { payload } } };
  });
  const waiting = types.filter(waitsForInstructions);
  return [
    ...payloadRules,
    { if: { ...eventTypeIs(waiting), properties: { ...eventTypeIs(waiting).properties, expect: ackOnly }, required: ["event_type", "expect"] }, then: false },
  ];
}

export function jsonSchemaFor(format: SchemaFormat): JsonSchema {
  const schema = toJsonSchema(formats[format]);
  if (format === "call-flow") {
    const events = (schema.properties as { events: { items: JsonSchema } }).events;
    events.items = { ...events.items, allOf: flowEventRules() };
    // A call flow has events or a script, never both; a vwh flow (no platform, or "vwh") follows vwh's event rules.
    schema.oneOf = [has("events"), has("script")];
    schema.allOf = [
      {
        if: { anyOf: [{ not: has("platform") }, { type: "object", properties: { platform: { const: "vwh" } }, required: ["platform"] }] },
        then: { type: "object", properties: { events: { type: "array", items: { allOf: vwhEventRules() } } } },
      },
    ];
  }
  return schema;
}
