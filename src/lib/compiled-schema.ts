/**
 * Reply validation without zod's generic parse where that parse costs (issue 15): a zod v4 schema compiled,
 * once, into closures that answer one question — would `schema.safeParse(value)` succeed with an output
 * that IS the input (deep-equal, and with the same key order), so the caller may use the input as `data`?
 *
 * The schema stays the single source: the compiler reads zod's own definitions (`_zod.def`, checks,
 * `optin`/`optout`, discriminator values) and copies the semantics of zod's parsers
 * (node_modules/zod/v4/core/schemas.js, checks.js), calling zod's own helpers where a check uses one.
 * Anything it does not understand is never guessed at: a leaf whose output is a primitive is handed to
 * zod's own safeParse (and accepted only if zod's output is the very input), anything else answers
 * "don't know" — which the caller reads as "ask zod". So `false` is always safe; `true` must be exact.
 *
 * Values are judged as JSON data (what JSON.parse returns): objects must have Object.prototype and
 * arrays Array.prototype (anything else is "don't know"); accessors, symbol keys and a polluted
 * Object.prototype are outside that model.
 */
import * as z from "zod";

/** What one compiled node knows about zod's parse of a value. */
const enum Verdict {
  /** zod succeeds and its output equals the input. */
  Accept = 0,
  /** zod fails. */
  Reject = 1,
  /** Anything else (zod's output would differ, or the compiler cannot tell): ask zod. */
  Unknown = 2,
}

type Node = (value: unknown) => Verdict;

export interface CompileOptions {
  /**
   * Accept objects whose keys come in another order than zod's output would have them (zod writes an
   * object's declared keys first, in declaration order). Only for callers that never let key order show;
   * the default insists on the same order, so output that serialises `data` stays byte-identical.
   */
  readonly anyKeyOrder?: boolean;
}

/** The internals of a zod v4 schema or check that the compiler reads. */
interface Internals {
  def: { type?: string; check?: string; checks?: readonly { _zod: Internals }[]; coerce?: boolean; [key: string]: unknown };
  traits: Set<string>;
  optin?: "optional" | "defaulted";
  optout?: "optional";
  values?: Set<unknown>;
  propValues?: Record<string, Set<unknown>>;
}
const internals = (schema: unknown): Internals => (schema as { _zod: Internals })._zod;

const unknownNode: Node = () => Verdict.Unknown;
const acceptAll: Node = () => Verdict.Accept;

// The `when` zod gives its length checks by default (runs on anything with a length): any other `when` is the schema author's.
const defaultLengthWhen = internals(z.string().min(1)).def.checks?.[0]?._zod.def["when"];

/**
 * The leaf handed to zod itself: only for a schema whose output is a primitive, accepted only when zod's
 * output is the input (z.url trims, an overwrite check rewrites, so success alone would not do).
 */
function delegatedLeaf(schema: z.core.$ZodType): Node {
  return (value) => {
    const result = z.safeParse(schema, value);
    if (!result.success) return Verdict.Reject;
    return (typeof value !== "object" || value === null) && Object.is(result.data, value) ? Verdict.Accept : Verdict.Unknown;
  };
}

/** The checks zod runs on a schema: the schema itself when it is one (z.int(), z.url()), then `def.checks`. */
function checksOf(schema: z.core.$ZodType): Internals[] {
  const own = internals(schema);
  return [...(own.traits.has("$ZodCheck") ? [own] : []), ...(own.def.checks ?? []).map((check) => check._zod)];
}

type Predicate<T> = (value: T) => boolean;

/** A length check (min_length, max_length, length_equals) as zod measures it: strings in code points, arrays in items. */
function lengthPredicate(check: Internals["def"]): Predicate<string | readonly unknown[]> | undefined {
  if (check["when"] !== defaultLengthWhen) return undefined;
  // UTF-16 units where they settle the check, code points (zod's measure of a string) where they do not
  const measure = (value: string | readonly unknown[], unitsSettle: (units: number) => boolean): number =>
    typeof value === "string" && !unitsSettle(value.length) ? z.core.util.codePointLength(value) : value.length;
  switch (check.check) {
    case "min_length": {
      const minimum = check["minimum"] as number;
      // as zod: fewer units than the floor never reach it, twice the floor always clears it; in between, count code points
      return (value) => measure(value, (units) => units < minimum || units >= minimum * 2) >= minimum;
    }
    case "max_length": {
      const maximum = check["maximum"] as number;
      return (value) => measure(value, (units) => units <= maximum) <= maximum;
    }
    case "length_equals": {
      const length = check["length"] as number;
      return (value) => measure(value, (units) => units < length || units > length * 2) === length;
    }
    default:
      return undefined;
  }
}

function stringNode(schema: z.core.$ZodType): Node {
  const { def } = internals(schema);
  if (def.coerce) return unknownNode;
  const predicates: Predicate<string>[] = [];
  for (const check of checksOf(schema)) {
    const length = lengthPredicate(check.def);
    if (length) {
      predicates.push(length);
      continue;
    }
    if (check.def.check === "string_format" && check.def["format"] === "regex" && check.traits.has("$ZodCheckRegex") && check.def["when"] === undefined) {
      const pattern = check.def["pattern"] as RegExp;
      predicates.push((value) => {
        pattern.lastIndex = 0; // as zod: a /g or /y pattern would otherwise carry its position over
        return pattern.test(value);
      });
      continue;
    }
    // Formats (url, email …), refinements, overwrites: zod's own semantics, subtle enough to leave to zod.
    return delegatedLeaf(schema);
  }
  return (value) => {
    if (typeof value !== "string") return Verdict.Reject;
    for (const predicate of predicates) if (!predicate(value)) return Verdict.Reject;
    return Verdict.Accept;
  };
}

function numberNode(schema: z.core.$ZodType): Node {
  const { def } = internals(schema);
  if (def.coerce) return unknownNode;
  const predicates: Predicate<number>[] = [];
  for (const check of checksOf(schema)) {
    const spec = check.def;
    if (spec["when"] !== undefined) return delegatedLeaf(schema);
    const bound = spec["value"];
    if (spec.check === "number_format" && typeof spec["format"] === "string" && Object.hasOwn(z.core.util.NUMBER_FORMAT_RANGES, spec["format"])) {
      const format = spec["format"] as keyof typeof z.core.util.NUMBER_FORMAT_RANGES;
      const [minimum, maximum] = z.core.util.NUMBER_FORMAT_RANGES[format];
      if (format.includes("int")) predicates.push((value) => Number.isSafeInteger(value) && value >= minimum && value <= maximum);
      else predicates.push((value) => value >= minimum && value <= maximum);
    } else if (spec.check === "greater_than" && typeof bound === "number") {
      predicates.push(spec["inclusive"] ? (value) => value >= bound : (value) => value > bound);
    } else if (spec.check === "less_than" && typeof bound === "number") {
      predicates.push(spec["inclusive"] ? (value) => value <= bound : (value) => value < bound);
    } else if (spec.check === "multiple_of" && typeof bound === "number") {
      predicates.push((value) => z.core.util.floatSafeRemainder(value, bound) === 0);
    } else {
      return delegatedLeaf(schema);
    }
  }
  return (value) => {
    // as zod's number type: NaN and ±Infinity are not numbers
    if (typeof value !== "number" || !Number.isFinite(value)) return Verdict.Reject;
    for (const predicate of predicates) if (!predicate(value)) return Verdict.Reject;
    return Verdict.Accept;
  };
}

/** A schema that matches values from a set (literal, enum): the same Set zod looks values up in. */
function valueSetNode(values: ReadonlySet<unknown>): Node {
  return (value) => (values.has(value) ? Verdict.Accept : Verdict.Reject);
}

const isPlainData = (value: object): boolean => Object.getPrototypeOf(value) === Object.prototype;

type Presence = "required" | "optional" | "other";

/** How zod's object treats an absent key (handlePropertyResult): fails, leaves it out, or — defaults — writes something. */
function presenceOf(field: Internals): Presence {
  if (field.optin === undefined) return "required";
  return field.optin === "optional" && field.optout === "optional" ? "optional" : "other";
}

function objectNode(schema: z.core.$ZodType, compile: (schema: z.core.$ZodType) => Node, options: CompileOptions): Node {
  const { def } = internals(schema);
  if (def.checks?.length) return unknownNode;
  const shape = def["shape"] as Record<string, z.core.$ZodType>;
  const keys = Object.keys(shape);
  // Keys that an Object.prototype lookup answers (`constructor`, `__proto__` …): zod's `key in input` would see through to the prototype.
  if (Object.getOwnPropertySymbols(shape).length > 0 || keys.some((key) => key in Object.prototype)) return unknownNode;
  const index = new Map(keys.map((key, position) => [key, position]));
  const fields = keys.map((key) => ({ node: compile(shape[key]!), presence: presenceOf(internals(shape[key])) }));
  const requiredKeys = keys.filter((_, position) => fields[position]!.presence === "required");
  const requiredCount = requiredKeys.length;
  const otherCount = fields.filter((field) => field.presence === "other").length;
  const catchall = def["catchall"] as z.core.$ZodType | undefined;
  const catchallType = catchall && internals(catchall).def.type;
  // strip (no catchall): zod drops unknown keys, so their presence means the output differs; strict (never): zod fails
  const extra: "strip" | "strict" | Node = catchall === undefined ? "strip" : catchallType === "never" ? "strict" : compile(catchall);
  const anyOrder = options.anyKeyOrder === true;
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return Verdict.Reject;
    if (!isPlainData(value)) return Verdict.Unknown; // zod's output would be a plain object: not equal
    const input = value as Record<string, unknown>;
    let verdict = Verdict.Accept;
    let last = -1;
    let sawExtra = false;
    let required = 0;
    let other = 0;
    // for…in, as zod's catchall loop: own enumerable string keys (the prototype is Object.prototype)
    for (const key in input) {
      const position = index.get(key);
      if (position === undefined) {
        if (extra === "strict") return Verdict.Reject;
        // strip drops the key; a catchall skips __proto__ (assigning it would replace the output's prototype)
        if (extra === "strip" || key === "__proto__") return Verdict.Unknown;
        const result = extra(input[key]);
        if (result === Verdict.Reject) return Verdict.Reject;
        if (result === Verdict.Unknown) verdict = Verdict.Unknown;
        sawExtra = true;
        continue;
      }
      // zod writes declared keys in declaration order, then the extra ones
      if (!anyOrder && (position < last || sawExtra)) verdict = Verdict.Unknown;
      last = position;
      const field = fields[position]!;
      const result = field.node(input[key]);
      if (result === Verdict.Reject) return Verdict.Reject;
      if (result === Verdict.Unknown) verdict = Verdict.Unknown;
      if (field.presence === "required") required++;
      else if (field.presence === "other") other++;
    }
    // short of a required key: zod fails unless the key is there unseen by for…in (non-enumerable)
    if (required < requiredCount) return requiredKeys.every((key) => key in input) ? Verdict.Unknown : Verdict.Reject;
    return other < otherCount ? Verdict.Unknown : verdict;
  };
}

function arrayNode(schema: z.core.$ZodType, compile: (schema: z.core.$ZodType) => Node): Node {
  const { def } = internals(schema);
  const element = compile(def["element"] as z.core.$ZodType);
  const predicates: Predicate<readonly unknown[]>[] = [];
  for (const check of checksOf(schema)) {
    const length = lengthPredicate(check.def);
    if (!length) return unknownNode;
    predicates.push(length);
  }
  return (value) => {
    if (!Array.isArray(value)) return Verdict.Reject;
    if (Object.getPrototypeOf(value) !== Array.prototype) return Verdict.Unknown;
    for (const predicate of predicates) if (!predicate(value)) return Verdict.Reject;
    let verdict = Verdict.Accept;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const result = element(item);
      if (result === Verdict.Reject) return Verdict.Reject;
      // a hole becomes an undefined in zod's output: not equal
      if (result === Verdict.Unknown || (item === undefined && !(i in value))) verdict = Verdict.Unknown;
    }
    return verdict;
  };
}

/** z.union: zod's output is the first option that succeeds, so an option zod might pass (Unknown) ends the search. */
function unionNode(options: readonly Node[]): Node {
  return (value) => {
    for (const option of options) {
      const result = option(value);
      if (result !== Verdict.Reject) return result;
    }
    return Verdict.Reject;
  };
}

function discriminatedUnionNode(schema: z.core.$ZodType, compile: (schema: z.core.$ZodType) => Node): Node {
  const { def } = internals(schema);
  const discriminator = def["discriminator"] as string;
  const options = def["options"] as z.core.$ZodType[];
  if (def["unionFallback"] || discriminator in Object.prototype) return unknownNode;
  // The same lookup zod builds (discriminatorMap): each option's declared values of the discriminator.
  const byValue = new Map<unknown, Node>();
  for (const option of options) {
    const values = internals(option).propValues?.[discriminator];
    if (!values || values.size === 0) return unknownNode;
    for (const tag of values) {
      // an optional discriminator or a value two options claim: zod's rules there are its own, so leave it to zod
      if (tag === undefined || byValue.has(tag)) return unknownNode;
      byValue.set(tag, compile(option));
    }
  }
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return Verdict.Reject;
    const option = byValue.get((value as Record<string, unknown>)[discriminator]);
    return option ? option(value) : Verdict.Reject;
  };
}

function recordNode(schema: z.core.$ZodType, compile: (schema: z.core.$ZodType) => Node): Node {
  const { def } = internals(schema);
  const keyType = def["keyType"] as z.core.$ZodType;
  // enumerated keys (z.record(z.enum(…), …)), partial and loose records: other loops in zod, not copied here
  if (def.checks?.length || internals(keyType).values || def["partial"] || def["mode"] === "loose") return unknownNode;
  const keyNode = compile(keyType);
  const valueNode = compile(def["valueType"] as z.core.$ZodType);
  return (value) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return Verdict.Reject;
    if (!isPlainData(value)) return Verdict.Unknown;
    const input = value as Record<PropertyKey, unknown>;
    let verdict = Verdict.Accept;
    // as zod's record: every own key, symbols included; non-enumerable ones it skips (and so drops)
    for (const key of Reflect.ownKeys(input)) {
      if (key === "__proto__" || !Object.prototype.propertyIsEnumerable.call(input, key)) return Verdict.Unknown;
      if (keyNode(key) !== Verdict.Accept) return Verdict.Unknown;
      const result = valueNode(input[key]);
      if (result === Verdict.Reject) return Verdict.Reject;
      if (result === Verdict.Unknown) verdict = Verdict.Unknown;
    }
    return verdict;
  };
}

class Compiler {
  readonly #nodes = new Map<z.core.$ZodType, Node>();
  readonly #options: CompileOptions;

  constructor(options: CompileOptions) {
    this.#options = options;
  }

  compile = (schema: z.core.$ZodType): Node => {
    const known = this.#nodes.get(schema);
    if (known) return known;
    // a schema that reaches itself (a getter in a shape) calls through this until its node is built
    let built: Node = unknownNode;
    this.#nodes.set(schema, (value) => built(value));
    built = this.#build(schema);
    this.#nodes.set(schema, built);
    return built;
  };

  #build(schema: z.core.$ZodType): Node {
    const { def, traits } = internals(schema);
    const plain = !def.checks?.length;
    switch (def.type) {
      case "string":
        return stringNode(schema);
      case "number":
        return numberNode(schema);
      case "boolean":
        if (def.coerce) return unknownNode;
        return plain ? (value) => (typeof value === "boolean" ? Verdict.Accept : Verdict.Reject) : delegatedLeaf(schema);
      case "null":
        return plain ? (value) => (value === null ? Verdict.Accept : Verdict.Reject) : delegatedLeaf(schema);
      case "literal":
      case "enum":
        return plain && internals(schema).values ? valueSetNode(internals(schema).values!) : delegatedLeaf(schema);
      case "unknown":
      case "any":
        return plain ? acceptAll : unknownNode;
      case "object":
        return objectNode(schema, this.compile, this.#options);
      case "array":
        return arrayNode(schema, this.compile);
      case "record":
        return recordNode(schema, this.compile);
      case "optional": {
        const inner = def["innerType"] as z.core.$ZodType;
        if (!plain || internals(inner).optin === "defaulted") return unknownNode; // a default substitutes a value
        const node = this.compile(inner);
        // z.exactOptional takes no undefined of its own: it is its inner schema (absence is the object's business)
        if (traits.has("$ZodExactOptional")) return node;
        return (value) => (value === undefined ? Verdict.Accept : node(value));
      }
      case "nullable": {
        if (!plain) return unknownNode;
        const node = this.compile(def["innerType"] as z.core.$ZodType);
        return (value) => (value === null ? Verdict.Accept : node(value));
      }
      case "union": {
        if (!plain || traits.has("$ZodXor")) return unknownNode;
        if (traits.has("$ZodDiscriminatedUnion")) return discriminatedUnionNode(schema, this.compile);
        if (!traits.has("$ZodUnion") || def["discriminator"] !== undefined) return unknownNode;
        const options = (def["options"] as z.core.$ZodType[]).map(this.compile);
        return options.length === 1 ? options[0]! : unionNode(options);
      }
      default:
        // transform, pipe, default, prefault, catch, readonly, lazy, coerce's cousins …: the output is not the input, or not provably so
        return unknownNode;
    }
  }
}

/**
 * `(value) => true` only when `schema.safeParse(value)` succeeds with an output deep-equal to `value` (and,
 * unless `anyKeyOrder`, with its keys in the same order). `false` means "ask zod".
 */
export function compileAcceptor(schema: z.core.$ZodType, options: CompileOptions = {}): (value: unknown) => boolean {
  const node = new Compiler(options).compile(schema);
  return (value) => node(value) === Verdict.Accept;
}

/**
 * `schema.safeParse` with a fast path: a value the compiled acceptor vouches for is its own `data`;
 * any other goes through zod, which gives the same result (and error messages) as before. Compiled on
 * first use.
 */
export function fastSafeParse<T extends z.ZodType>(
  schema: T,
  options: CompileOptions = {},
): (value: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) => z.ZodSafeParseResult<z.output<T>> {
  let accept: ((value: unknown) => boolean) | undefined;
  return (value, params) => {
    accept ??= compileAcceptor(schema, options);
    return accept(value) ? { success: true, data: value as z.output<T> } : schema.safeParse(value, params);
  };
}
