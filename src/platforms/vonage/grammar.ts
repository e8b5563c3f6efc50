/**
 * The NCCO grammar as zod schemas, built from the data that scripts/extract-vonage-grammar.mjs reads
 * out of @vonage/voice's type declarations (grammar.json). Nothing here is typed in by hand: a field
 * is known, required and of a type because the SDK says so.
 */
import { readFileSync } from "node:fs";
import * as z from "zod";

export type FieldType =
  | { type: "string"; enum?: (string | number)[] }
  | { type: "number"; enum?: (string | number)[] }
  | { type: "boolean" }
  | { type: "any" }
  | { type: "array"; items: FieldType }
  | { type: "record"; values: FieldType }
  | { type: "object"; fields: Record<string, Field>; extra: boolean }
  | { type: "oneOf"; options: FieldType[] };
export type Field = FieldType & { required: boolean };

export interface NccoGrammar {
  sdk: { name: string; version: string };
  source: string;
  actions: Record<string, { fields: Record<string, Field>; extra: boolean }>;
}

function objectSchema(fields: Record<string, Field>, extra: boolean, fixed: Record<string, z.ZodType> = {}): z.ZodObject {
  const shape: Record<string, z.ZodType> = { ...fixed };
  for (const [name, field] of Object.entries(fields)) {
    if (fixed[name]) continue;
    const schema = toZod(field);
    shape[name] = field.required ? schema : schema.optional();
  }
  return extra ? z.looseObject(shape) : z.strictObject(shape);
}

/** A discriminated union where every option has a one-value `type` (connect endpoints). */
function unionSchema(options: FieldType[]): z.ZodType {
  const objects = options.filter((option) => option.type === "object");
  const tags = objects.map((option) => option.fields["type"]);
  if (objects.length === options.length && tags.every((tag) => tag?.type === "string" && tag.enum?.length === 1)) {
    const schemas = objects.map((option) => objectSchema(option.fields, option.extra, { type: z.literal(String((option.fields["type"] as { enum: string[] }).enum[0])) }));
    return z.discriminatedUnion("type", schemas as unknown as [z.ZodObject, ...z.ZodObject[]]);
  }
  return z.union(options.map(toZod) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}

export const nccoGrammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as NccoGrammar;

export function toZod(field: FieldType): z.ZodType {
  switch (field.type) {
    case "string":
      return field.enum ? z.enum(field.enum.map(String) as [string, ...string[]]) : z.string();
    case "number":
      return field.enum ? z.union(field.enum.map((value) => z.literal(value)) as unknown as [z.ZodType, z.ZodType]) : z.number();
    case "boolean":
      return z.boolean();
    case "any":
      return z.unknown();
    case "array":
      return z.array(toZod(field.items));
    case "record":
      return z.record(z.string(), toZod(field.values));
    case "object":
      return objectSchema(field.fields, field.extra);
    case "oneOf":
      return unionSchema(field.options);
  }
}

export const nccoActionNames = Object.keys(nccoGrammar.actions);

/** One NCCO action: `action` picks the schema, every other field as the SDK declares it. */
export const nccoActionSchema = z.discriminatedUnion(
  "action",
  Object.entries(nccoGrammar.actions).map(([name, action]) => objectSchema(action.fields, action.extra, { action: z.literal(name) })) as unknown as [z.ZodObject, ...z.ZodObject[]],
);

export const nccoSchema = z.array(nccoActionSchema);

export const nccoSdk = nccoGrammar.sdk;
