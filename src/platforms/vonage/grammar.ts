/**
 * The NCCO grammar as zod schemas, built from the data that scripts/extract-vonage-grammar.mjs reads
 * out of @vonage/voice's type declarations (grammar.json), with the sourced overrides of overrides.json
 * on top where Vonage accepts more than the SDK's types say (issue 24). Nothing here is typed in by
 * hand: a field is known, required and of a type because the SDK, the NCCO reference or Vonage's own
 * samples say so.
 */
import { readFileSync } from "node:fs";
import * as z from "zod";
import { readOverrides, type Override } from "../shared/overrides.js";

export type FieldType =
  | { type: "string"; enum?: (string | number)[]; pattern?: string }
  | { type: "number"; enum?: (string | number)[]; integer?: boolean }
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
    const schemas = objects.map((option) =>
      objectSchema(option.fields, option.extra, { type: z.literal(String((option.fields["type"] as { enum: string[] }).enum[0])) }),
    );
    return z.discriminatedUnion("type", schemas as unknown as [z.ZodObject, ...z.ZodObject[]]);
  }
  return z.union(options.map(toZod) as unknown as [z.ZodType, z.ZodType, ...z.ZodType[]]);
}

/** grammar.json as extracted from the SDK (a test compares it with a fresh extraction). */
export const nccoGrammar = JSON.parse(readFileSync(new URL("./grammar.json", import.meta.url), "utf8")) as NccoGrammar;

const fieldTypeSchema: z.ZodType<FieldType> = z.lazy(() =>
  z.union([
    z.strictObject({ type: z.literal("string"), enum: z.array(z.union([z.string(), z.number()])).optional(), pattern: z.string().optional() }),
    z.strictObject({ type: z.literal("number"), enum: z.array(z.union([z.string(), z.number()])).optional(), integer: z.boolean().optional() }),
    z.strictObject({ type: z.literal("boolean") }),
    z.strictObject({ type: z.literal("any") }),
    z.strictObject({ type: z.literal("array"), items: fieldTypeSchema }),
    z.strictObject({ type: z.literal("record"), values: fieldTypeSchema }),
    z.strictObject({ type: z.literal("oneOf"), options: z.array(fieldTypeSchema).min(2) }),
  ]),
) as z.ZodType<FieldType>;

export const nccoOverrides: readonly Override<FieldType>[] = readOverrides(new URL("./overrides.json", import.meta.url), fieldTypeSchema);

/** The object that holds the field an override names: `action.field[.field…]`, `[type=x]` picking a union option. */
function overrideTarget(grammar: NccoGrammar, path: string): { fields: Record<string, Field>; name: string } {
  const [action, ...rest] = path.split(".");
  let holder: { fields: Record<string, Field> } | undefined = action === undefined ? undefined : grammar.actions[action];
  const name = rest.pop();
  for (const segment of rest) {
    const [, key, tag] = /^([^[]+)(?:\[type=([^\]]+)\])?$/.exec(segment) ?? [];
    let field: FieldType | undefined = key === undefined ? undefined : holder?.fields[key];
    if (field?.type === "array") field = field.items;
    if (field?.type === "oneOf" && tag !== undefined)
      field = field.options.find((option) => option.type === "object" && option.fields["type"]?.type === "string" && option.fields["type"].enum?.[0] === tag);
    holder = field?.type === "object" ? field : undefined;
  }
  if (!holder || name === undefined) throw new Error(`src/platforms/vonage/overrides.json: ${path} names no field of the NCCO grammar`);
  return { fields: holder.fields, name };
}

/** The grammar Vonage accepts: the SDK's, each override applied on a copy. */
export function withOverrides(grammar: NccoGrammar, overrides: readonly Override<FieldType>[]): NccoGrammar {
  const copy = structuredClone(grammar);
  for (const override of overrides) {
    const { fields, name } = overrideTarget(copy, override.field);
    fields[name] = { ...override.accept, required: fields[name]?.required ?? false } as Field;
  }
  return copy;
}

const acceptedGrammar = withOverrides(nccoGrammar, nccoOverrides);

export function toZod(field: FieldType): z.ZodType {
  switch (field.type) {
    case "string":
      if (field.enum) return z.enum(field.enum.map(String) as [string, ...string[]]);
      return field.pattern === undefined ? z.string() : z.string().regex(new RegExp(field.pattern), `expected a number or a numeric string (${field.pattern})`);
    case "number":
      if (field.enum) return z.union(field.enum.map((value) => z.literal(value)) as unknown as [z.ZodType, z.ZodType]);
      return field.integer ? z.int() : z.number();
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

export const nccoActionNames = Object.keys(acceptedGrammar.actions);

/** One NCCO action: `action` picks the schema, every other field as the SDK declares it. */
export const nccoActionSchema = z.discriminatedUnion(
  "action",
  Object.entries(acceptedGrammar.actions).map(([name, action]) => objectSchema(action.fields, action.extra, { action: z.literal(name) })) as unknown as [
    z.ZodObject,
    ...z.ZodObject[],
  ],
);

export const nccoSchema = z.array(nccoActionSchema);

export const nccoSdk = nccoGrammar.sdk;
