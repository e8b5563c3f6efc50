/**
 * The compiled reply acceptor (issue 15) against zod itself: whenever it says true, zod must succeed with
 * an output deep-equal to the input (same key order too, unless asked otherwise), and on every valid
 * reply of the examples and the SDK it must say true — a fast path, not an always-false.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import {
  Connect,
  ConnectEventType,
  Conversation,
  Input,
  MachineDetection,
  NCCOBuilder,
  Notify,
  Record as RecordAction,
  RecordingFormat,
  Stream,
  Talk,
  Wait,
} from "@vonage/voice";
import * as z from "zod";
import { compileAcceptor, fastSafeParse, type CompileOptions } from "../../src/lib/compiled-schema.js";
import { createRandom, type Random } from "../../src/core/random.js";
import { nccoSchema } from "../../src/platforms/vonage/grammar.js";
import { instructionReplySchema } from "../../src/platforms/vwh/grammar.js";
import { repoRoot } from "../helpers.js";

type Json = unknown;
const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** An object with an own `__proto__` key, as JSON.parse makes it (an assignment would set the prototype). */
function withOwnKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy = { ...object };
  Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  return copy;
}

const long = (length: number, unit = "a") => unit.repeat(length);
const emoji = "\u{1F600}"; // two UTF-16 units, one code point: zod measures strings in code points

/** Values that sit on the edges of what the vwh and NCCO schemas take. */
const hostileLeaves: Json[] = [
  0,
  -0,
  -1,
  1,
  1.5,
  19,
  20,
  40,
  2000,
  2001,
  2020,
  1000,
  1001,
  86_400,
  86_401,
  86_400_000,
  86_400_001,
  Number.MAX_SAFE_INTEGER,
  Number.MAX_SAFE_INTEGER + 1,
  1e21,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  "",
  "a",
  " ",
  "speak",
  "listen",
  "talk",
  "input",
  "dtmf",
  "speech",
  "both",
  "en",
  "en-US",
  "english",
  "e",
  "en-",
  "zh-Hant-TW",
  long(3000),
  long(3001),
  long(1500, emoji),
  long(1501, emoji),
  long(2999) + emoji,
  emoji,
  "+15550100001",
  "+05550100001",
  "+1555010000123456",
  "15550100001",
  "sip:alice@example.test",
  "sips:a@b",
  "sip:@b",
  "sip:a b@c",
  "https://example.test/a.mp3",
  "http://example.test",
  "HTTPS://EXAMPLE.TEST/x",
  " https://example.test/a ",
  "https://example.test/a\n",
  "https://exa mple.test",
  "javascript:alert(1)",
  "ws://example.test/media",
  "wss://example.test/media",
  "wss://",
  "file:///etc/passwd",
  "mailto:a@b.test",
  "//example.test",
  "example.test",
  true,
  false,
  null,
  undefined,
  [],
  [1],
  ["speech"],
  ["dtmf", "speech"],
  ["speech", "speech"],
  ["video"],
  {},
  { a: 1 },
  Object.create(null) as object,
];

/** Every path to an object or array in a value, with the container itself. */
function containers(value: Json, path: (string | number)[] = []): { path: (string | number)[]; node: object }[] {
  if (typeof value !== "object" || value === null) return [];
  const here = [{ path, node: value }];
  const children = Array.isArray(value)
    ? Array.from(value as ArrayLike<Json>, (item, index) => containers(item, [...path, index]))
    : Object.entries(value).map(([key, item]) => containers(item, [...path, key]));
  return here.concat(...children);
}

/** A copy of `root` with the node at `path` replaced. */
function replaceAt(root: Json, path: (string | number)[], replace: (node: Json) => Json): Json {
  if (path.length === 0) return replace(root);
  const [head, ...rest] = path;
  if (Array.isArray(root)) return Array.from(root as ArrayLike<Json>, (item, index) => (index === head ? replaceAt(item, rest, replace) : item));
  const object = root as Record<string, Json>;
  const copy: Record<string, Json> = {};
  for (const key of Object.keys(object)) copy[key] = key === head ? replaceAt(object[key], rest, replace) : object[key];
  return copy;
}

/** The mutations at one container of a reply: `count` of them, the one at `offset` built on demand. */
interface Segment {
  count: number;
  make(offset: number): Json;
}

/**
 * Systematic mutations of a valid reply, by container: each field dropped, unknown keys at each level, each leaf
 * swapped for each hostile value … Counted first and built on demand, so a random pick builds only the one it picks.
 */
function segments(valid: Json): Segment[] {
  return containers(valid).map(({ path, node }) => {
    if (Array.isArray(node)) {
      const items = Array.from(node as ArrayLike<Json>); // a mutation may have left it without Array.prototype
      const shapes: (() => Json)[] = [
        () => [],
        () => ({ ...items }),
        () => null,
        () => [...items].reverse(),
        () => [...items, ...items],
        () => items.slice(1),
        () => Object.setPrototypeOf([...items], null) as Json,
        () => [...items, ,], // a hole
      ];
      return {
        count: shapes.length + items.length * hostileLeaves.length,
        make: (offset) => {
          if (offset < shapes.length) return replaceAt(valid, path, shapes[offset]!);
          const leaf = offset - shapes.length;
          return replaceAt(valid, [...path, Math.floor(leaf / hostileLeaves.length)], () => hostileLeaves[leaf % hostileLeaves.length]);
        },
      };
    }
    const object = node as Record<string, Json>;
    const keys = Object.keys(object);
    const shapes: (() => Json)[] = [
      () => [object],
      () => Object.assign(Object.create(null) as object, object),
      () => Object.fromEntries(Object.entries(object).reverse()),
    ];
    for (const [key, value] of [
      ["extra", 1],
      ["__proto__", {}],
      ["__proto__", null],
      ["constructor", "x"],
      ["toString", 1],
      ["0", 1],
    ] as const) {
      shapes.push(
        () => withOwnKey(object, key, value),
        () => ({ ...withOwnKey({}, key, value), ...object }),
      );
    }
    // Then per key: dropped, undefined, and each hostile leaf in its place.
    const perKey = 2 + hostileLeaves.length;
    return {
      count: shapes.length + keys.length * perKey,
      make: (offset) => {
        if (offset < shapes.length) return replaceAt(valid, path, shapes[offset]!);
        const key = keys[Math.floor((offset - shapes.length) / perKey)]!;
        const which = (offset - shapes.length) % perKey;
        if (which === 0) return replaceAt(valid, path, () => Object.fromEntries(Object.entries(object).filter(([name]) => name !== key)));
        if (which === 1) return replaceAt(valid, path, () => ({ ...object, [key]: undefined }));
        return replaceAt(valid, [...path, key], () => hostileLeaves[which - 2]);
      },
    };
  });
}

/** Every systematic mutation of a valid reply. */
const mutations = (valid: Json): Json[] => segments(valid).flatMap(({ count, make }) => Array.from({ length: count }, (_, offset) => make(offset)));

/** A few mutations on top of each other, picked by a seeded random source. */
function randomMutations(valid: Json, random: Random, count: number): Json[] {
  const out: Json[] = [];
  for (let i = 0; i < count; i++) {
    let value = valid;
    for (let depth = 2 + Math.floor(random.next() * 2); depth > 0; depth--) {
      const parts = segments(value);
      const total = parts.reduce((sum, part) => sum + part.count, 0);
      if (total === 0) break;
      let offset = Math.floor(random.next() * total);
      let index = 0;
      while (offset >= parts[index]!.count) offset -= parts[index++]!.count;
      value = parts[index]!.make(offset);
    }
    out.push(value);
  }
  return out;
}

/** Asserts the acceptor's contract on each value (zod parses only what the acceptor takes); returns how many it accepted. */
function checkAgainstZod(schema: z.ZodType, values: readonly Json[], options: CompileOptions = {}): { accepted: number } {
  const accept = compileAcceptor(schema, options);
  let accepted = 0;
  for (const value of values) {
    if (!accept(value)) continue;
    accepted++;
    const result = schema.safeParse(value);
    assert.ok(result.success, `accepted a value zod rejects: ${JSON.stringify(value)}`);
    assert.deepStrictEqual(result.data, value, `accepted a value zod changes: ${JSON.stringify(value)}`);
    if (!options.anyKeyOrder) assert.equal(JSON.stringify(result.data), JSON.stringify(value), "accepted a value whose keys zod reorders");
  }
  return { accepted };
}

interface VoiceHandlerModule {
  instructionsFor(event: { event_type: string; payload?: object }, options?: { streamUrl?: string }): unknown[] | undefined;
}
interface VonageHandlerModule {
  menu(base: string): unknown[];
  nccoForInput(base: string, result: object): unknown[];
}

async function validVwhReplies(): Promise<Json[]> {
  const { instructionsFor } = (await import(pathToFileURL(join(repoRoot, "examples", "voice-handler.js")).href)) as VoiceHandlerModule;
  const events = [
    { event_type: "call.started", payload: { to: "+15550100001" } },
    { event_type: "call.started", payload: { to: "+15550100300" } },
    { event_type: "speech.transcribed", payload: { text: "I'd like to reschedule", is_final: true } },
    { event_type: "speech.transcribed", payload: { is_final: false } },
    { event_type: "intent.matched", payload: { intent: "reschedule" } },
    { event_type: "intent.matched", payload: { intent: "billing" } },
    { event_type: "dtmf.received", payload: { digits: "1" } },
    { event_type: "dtmf.received", payload: { digits: "0" } },
    { event_type: "playback.finished" },
  ];
  const fromExample = events
    .map((event) => instructionsFor(event, { streamUrl: "wss://agent.test/media" }))
    .filter((instructions) => instructions !== undefined);
  fromExample.push(instructionsFor({ event_type: "call.started", payload: { to: "+15550100400" } }, { streamUrl: "wss://agent.test/media" })!);
  // every instruction type with every field it has, in the order the schema declares them
  const everyField = [
    { type: "speak", text: "Hello, how can I help?", voice: "alloy", language: "en-US", barge_in: true },
    { type: "play", url: "https://example.test/hold.mp3", loop: 3, barge_in: false },
    { type: "listen", input: ["speech", "dtmf"], timeout_ms: 5000, end_of_speech_ms: 800, max_digits: 4, language: "zh-Hant-TW", hints: ["billing", ""] },
    { type: "stream", url: "wss://example.test/media", track: "both", bidirectional: true, chunk_ms: 20 },
    { type: "record", max_duration_s: 86_400, silence_timeout_s: 5, beep: true },
    { type: "pause", duration_ms: 86_400_000 },
    { type: "transfer", to: "+15550100001", caller_id: "+15550100002", timeout_s: 30 },
  ];
  return [
    ...fromExample.map((instructions) => ({ instructions })),
    { instructions: everyField },
    {
      instructions: [
        { type: "speak", text: long(3000) },
        { type: "redirect", url: "http://example.test/next" },
      ],
    },
    {
      instructions: [
        { type: "speak", text: long(1500, emoji) },
        { type: "hangup", reason: "done" },
      ],
    },
    { instructions: [{ type: "transfer", to: "sip:alice@example.test" }] },
    { instructions: [{ type: "stream", url: "ws://127.0.0.1:8080/media", chunk_ms: 2000 }] },
    { instructions: [{ type: "hangup" }] },
    { instructions: [] },
    { instructions: [{ type: "listen" }], note: "extra top-level fields are tolerated" },
  ].map(clone);
}

async function validNccos(): Promise<Json[]> {
  const { menu, nccoForInput } = (await import(pathToFileURL(join(repoRoot, "examples", "vonage-handler.js")).href)) as VonageHandlerModule;
  const base = "https://agent.test";
  const fromExample = [
    menu(base),
    nccoForInput(base, { dtmf: { digits: "1" } }),
    nccoForInput(base, { dtmf: { digits: "2" } }),
    nccoForInput(base, { dtmf: { digits: "0" } }),
    nccoForInput(base, { speech: { results: [{ text: "I need an appointment" }] } }),
    nccoForInput(base, { speech: { results: [{ text: "goodbye" }] } }),
    nccoForInput(base, {}),
  ];
  const build = (...actions: { serializeToNCCO(): unknown }[]) => {
    const builder = new NCCOBuilder();
    for (const action of actions) builder.addAction(action as Parameters<NCCOBuilder["addAction"]>[0]);
    return builder.build() as unknown[];
  };
  const fromSdk = [
    build(new Talk("hi", true, 2, "0", "en-US", "1", true)),
    build(new Connect({ type: "websocket", uri: "wss://agent.test/media", contentType: "audio/l16;rate=16000" })),
    build(new RecordAction(RecordingFormat.MP3, undefined, undefined, 3, "#", 60, true, "https://agent.test/recording")),
    build(new Stream("https://agent.test/hold.mp3", 0, true, 2), new Input({ maxDigits: 4 }, undefined, "https://agent.test/input")),
    build(new Notify({ step: "one" }, "https://agent.test/notify", "POST"), new Wait(2)),
    build(new Conversation("room", undefined, true)),
    build(new Connect({ type: "sip", uri: "sip:alice@example.test" })),
    build(new Connect({ type: "app", user: "bob" }), new Connect({ type: "vbc", extension: "123" })),
    build(
      new Connect(
        { type: "phone", number: "15550100001" } as never,
        "15550100002",
        undefined,
        ConnectEventType.SYNCHRONOUS,
        30,
        600,
        MachineDetection.CONTINUE,
        "https://agent.test/event",
      ),
    ),
    [],
  ];
  return [...fromExample, ...fromSdk].map(clone);
}

describe("compiled reply acceptor", () => {
  it("vwh replies: says true on every valid reply, and only where zod's output is the input", async () => {
    const valid = await validVwhReplies();
    const accept = compileAcceptor(instructionReplySchema);
    for (const reply of valid) assert.ok(accept(reply), `refused a valid reply: ${JSON.stringify(reply)}`);
    const values = [...valid, ...valid.flatMap(mutations), ...valid.flatMap((reply, index) => randomMutations(reply, createRandom(1500 + index), 12))];
    const { accepted } = checkAgainstZod(instructionReplySchema, values);
    if (!(values.length > 5000 && accepted > valid.length && accepted < values.length)) {
      const zodAccepted = values.filter((value) => instructionReplySchema.safeParse(value).success).length;
      assert.fail(`${accepted} of ${values.length} accepted (zod: ${zodAccepted})`);
    }
  });

  it("NCCOs: says true on the example handler's and the SDK's NCCOs, and only where zod's output is the input", async () => {
    const valid = await validNccos();
    // reply.ts reads an NCCO's fields by name: the order of its keys never shows
    const options = { anyKeyOrder: true };
    const accept = compileAcceptor(nccoSchema, options);
    for (const ncco of valid) assert.ok(accept(ncco), `refused a valid NCCO: ${JSON.stringify(ncco)}`);
    const values = [...valid, ...valid.flatMap(mutations), ...valid.flatMap((ncco, index) => randomMutations(ncco, createRandom(2500 + index), 12))];
    const { accepted } = checkAgainstZod(nccoSchema, values, options);
    assert.ok(values.length > 5000 && accepted > valid.length && accepted < values.length, `${accepted} of ${values.length} accepted`);
    // the default insists on zod's key order: the SDK writes talk's text before bargeIn, the grammar declares them the other way round
    checkAgainstZod(nccoSchema, values);
  });

  it("keeps zod's key order unless told otherwise", () => {
    const schema = z.strictObject({ type: z.literal("speak"), text: z.string() });
    assert.equal(compileAcceptor(schema)({ type: "speak", text: "hi" }), true);
    assert.equal(compileAcceptor(schema)({ text: "hi", type: "speak" }), false);
    assert.equal(compileAcceptor(schema, { anyKeyOrder: true })({ text: "hi", type: "speak" }), true);
    const loose = z.looseObject({ instructions: z.array(z.string()) });
    assert.equal(compileAcceptor(loose)({ instructions: [], note: 1 }), true);
    assert.equal(compileAcceptor(loose)({ note: 1, instructions: [] }), false, "zod writes declared keys before the extra ones");
  });

  it("each supported construct agrees with zod over edge values", () => {
    const schemas: [string, z.ZodType, Json[]][] = [
      ["string min/max", z.string().min(2).max(4), ["ab", "abcd", emoji + emoji, emoji.repeat(4)]],
      ["string length", z.string().length(2), ["ab", emoji + emoji]],
      ["string regex /g", z.string().regex(/^a+$/g), ["a", "aa"]],
      ["number int positive max", z.number().int().positive().max(86_400), [1, 86_400]],
      ["z.int()", z.int(), [0, -1, Number.MAX_SAFE_INTEGER]],
      ["number min multipleOf", z.number().min(20).max(2000).multipleOf(20), [20, 40, 2000]],
      ["multipleOf 0.1", z.number().multipleOf(0.1), [0.3, 1.5, 0]],
      ["number nonnegative lt", z.number().nonnegative().lt(1.5), [0, 1, 1.4]],
      ["int32", z.int32(), [1, -2147483648]],
      ["boolean", z.boolean(), [true, false]],
      ["literal", z.literal("speak"), ["speak"]],
      ["numeric literals", z.union([z.literal(0), z.literal(1)]), [0, 1]],
      ["enum", z.enum(["speech", "dtmf"]), ["speech", "dtmf"]],
      ["nullable optional", z.string().nullable().optional(), ["x", null, undefined]],
      ["null", z.null(), [null]],
      ["record", z.record(z.string(), z.number()), [{}, { a: 1, b: 2 }, { 1: 1, a: 2 }]],
      ["record of unknown", z.record(z.string(), z.unknown()), [{ a: { b: [null] } }]],
      ["array min max", z.array(z.number()).min(1).max(2), [[1], [1, 2]]],
      ["strip object", z.object({ a: z.string(), b: z.number().optional() }), [{ a: "x" }, { a: "x", b: 1 }]],
      ["strict object", z.strictObject({ a: z.string().optional() }), [{}, { a: "x" }, { a: undefined }]],
      ["loose object", z.looseObject({ a: z.string() }), [{ a: "x", b: { c: 1 } }]],
      ["object catchall", z.object({ a: z.string() }).catchall(z.number()), [{ a: "x", b: 1 }]],
      ["union first match", z.union([z.object({ a: z.string() }), z.strictObject({ a: z.string(), b: z.number() })]), [{ a: "x" }]],
      ["union of strings", z.union([z.string().regex(/^\+\d+$/), z.string().regex(/^sip:/)]), ["+1", "sip:x"]],
      [
        "discriminated union",
        z.discriminatedUnion("t", [z.strictObject({ t: z.literal("a"), n: z.number() }), z.strictObject({ t: z.enum(["b", "c"]) })]),
        [{ t: "a", n: 1 }, { t: "c" }],
      ],
      ["url (delegated)", z.url({ protocol: /^https?$/ }), ["https://example.test/a", "http://x.test"]],
      ["email (delegated)", z.email(), ["a@example.test"]],
      ["refine (delegated)", z.string().refine((value) => value.startsWith("a")), ["abc"]],
      ["unknown", z.unknown(), [undefined, null, { a: 1 }, Object.create(null) as object]],
    ];
    const pool = [
      ...hostileLeaves,
      "ab",
      "abcd",
      "abcde",
      emoji + emoji,
      "aa",
      "a@example.test",
      "a@b",
      "abc",
      "+1",
      "sip:x",
      0.3,
      0.30000000000000004,
      1.4,
      4294967296,
      { a: "x" },
      { a: "x", b: 1 },
      { a: "x", b: "y" },
      { a: 1 },
      { a: undefined },
      { t: "a", n: 1 },
      { t: "a" },
      { t: "b", n: 1 },
      { t: "c" },
      { t: "d" },
      { a: "x", b: { c: 1 } },
      [1],
      [1, 2],
      [1, 2, 3],
      [1, "2"],
      { 1: 1, a: 2 },
      { a: { b: [null] } },
      withOwnKey({ a: "x" }, "__proto__", 1),
      withOwnKey({}, "__proto__", 1),
      { constructor: 1 },
    ];
    for (const [label, schema, accepted] of schemas) {
      const accept = compileAcceptor(schema);
      for (const value of accepted) assert.equal(accept(value), true, `${label}: refused ${String(JSON.stringify(value))}`);
      try {
        checkAgainstZod(schema, [...pool, ...accepted]);
      } catch (error) {
        throw new Error(`${label}: ${(error as Error).message}`);
      }
    }
  });

  it("refuses a value zod accepts but changes: a url zod trims, keys a strip object drops, a null-prototype object", () => {
    assert.equal(z.url().safeParse(" https://example.test ").success, true);
    assert.equal(compileAcceptor(z.url())(" https://example.test "), false);
    assert.equal(compileAcceptor(z.object({ a: z.string() }))({ a: "x", b: 1 }), false);
    const nullPrototype = Object.assign(Object.create(null) as object, { a: "x" });
    assert.equal(z.object({ a: z.string() }).safeParse(nullPrototype).success, true);
    assert.equal(compileAcceptor(z.object({ a: z.string() }))(nullPrototype), false);
    assert.equal(compileAcceptor(z.looseObject({}))(withOwnKey({}, "__proto__", 1)), false);
  });

  it("compiles what it does not understand to always-false, never to a wrong true", () => {
    const unsupported: [string, z.ZodType, Json][] = [
      ["transform", z.string().transform((value) => value), "x"],
      ["transform in an object", z.strictObject({ a: z.string().transform((value) => value.toUpperCase()) }), { a: "X" }],
      ["coerce", z.coerce.number(), 5],
      ["coerce string", z.coerce.string(), "x"],
      ["default", z.string().default("x"), "x"],
      ["defaulted field", z.strictObject({ a: z.string().default("x") }), { a: "y" }],
      ["preprocess", z.preprocess((value) => value, z.string()), "x"],
      ["pipe", z.string().pipe(z.string()), "x"],
      ["catch", z.string().catch("x"), "x"],
      ["readonly", z.strictObject({ a: z.string() }).readonly(), { a: "x" }],
      ["lazy", z.lazy(() => z.string()), "x"],
      ["object refine", z.strictObject({ a: z.string() }).refine(() => true), { a: "x" }],
      ["date", z.date(), new Date(0)],
    ];
    for (const [label, schema, value] of unsupported) {
      const result = schema.safeParse(value);
      assert.ok(result.success, `${label}: zod accepts the sample`);
      assert.equal(compileAcceptor(schema)(value), false, `${label}: compiled to a true`);
    }
  });

  it("fastSafeParse: the input as data when accepted, zod's own result (and messages) otherwise", () => {
    const parse = fastSafeParse(instructionReplySchema);
    const reply = { instructions: [{ type: "speak", text: "Hello" }, { type: "listen" }] };
    const fast = parse(reply, { reportInput: true });
    assert.ok(fast.success);
    assert.equal(fast.data, reply);
    const bad = { instructions: [{ type: "speak", text: "" }, { type: "play", url: "javascript:alert(1)" }, { type: "teleport" }] };
    const slow = parse(bad, { reportInput: true });
    const expected = instructionReplySchema.safeParse(bad, { reportInput: true });
    assert.equal(slow.success, false);
    assert.deepEqual(slow.error?.issues, expected.error?.issues);
    // a reply zod accepts but the fast path leaves to zod: zod's data, not the input
    const reordered = { instructions: [{ text: "Hello", type: "speak" }] };
    const viaZod = parse(reordered);
    assert.ok(viaZod.success);
    assert.notEqual(viaZod.data, reordered);
    assert.deepEqual(viaZod.data, reordered);
  });
});
