/**
 * The conformance corpus (issue 24, "accept what each platform accepts"): replies reproduced from the
 * platforms' own code samples and API references, under fixtures/conformance/<platform>/cases.json.
 * Every `valid` case must pass the platform's reply check with no failure; every `invalid` one (a reply
 * the platform's docs say it refuses) must fail at least once. There is no list of tolerated false
 * failures: a reply the platform accepts never fails (the grammars' sourced overrides make it so).
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import * as z from "zod";

// ---- the one coupling to vwh's internals: a reply in, the platform's failures out ----

interface ReplyUnderTest {
  platform: string;
  event: string;
  /** Telnyx: the Call Control command the handler sent instead of a reply body. */
  command: string | undefined;
  method: string;
  contentType: string | undefined;
  body: Buffer;
  /** The webhook's own body, where the check relates the two (Vapi tool call ids). */
  request: Buffer;
}

async function replyFailures(reply: ReplyUnderTest): Promise<string[]> {
  const show = (finding: { path?: string; message: string }) => (finding.path ? `${finding.path}: ${finding.message}` : finding.message);
  const { loadPlatform, isPlatformId } = await import("../../src/platforms/registry.js");
  if (!isPlatformId(reply.platform)) throw new Error(`no platform ${reply.platform}`);
  const platform = await loadPlatform(reply.platform);
  const spec = platform.events[reply.event];
  if (!spec) throw new Error(`${reply.platform} has no event ${reply.event} (it has ${Object.keys(platform.events).join(", ")})`);
  if (reply.command !== undefined) {
    // Telnyx ignores reply bodies: the handler's REST commands are what its Call Control API checks.
    const { checkCommand } = await import("../../src/platforms/telnyx/commands.js");
    return checkCommand(reply.command, reply.method, JSON.parse(reply.body.toString("utf8"))).findings.map(show);
  }
  const parsed = platform.parseReply(
    { status: 200, headers: reply.contentType === undefined ? {} : { "content-type": reply.contentType }, body: reply.body },
    {
      eventType: reply.event,
      waits: spec.waits,
      expectsActions: false,
      request: { method: "POST", url: new URL("https://voice.example.test/hooks/voice"), body: reply.request, contentType: "application/json", headers: {} },
    },
  );
  return parsed.failures.map(show);
}

// ---- the corpus ----

const root = join(fileURLToPath(new URL("../../../", import.meta.url)), "fixtures", "conformance");

const caseSchema = z
  .strictObject({
    name: z.string().min(1),
    /** Where the construct comes from: `github:owner/repo path` or a documentation URL. */
    source: z.string().min(1),
    /** The webhook the reply answers, as the platform's event catalogue names it. */
    event: z.string().min(1),
    command: z.string().min(1).optional(),
    method: z.enum(["GET", "POST", "PUT", "PATCH", "DELETE"]).default("POST"),
    contentType: z.string().optional(),
    /** The reply body inline: a string is sent as is, anything else as JSON. */
    reply: z.unknown().optional(),
    /** The reply body in a file next to cases.json (XML documents). */
    file: z
      .string()
      .regex(/^[\w.-]+$/)
      .optional(),
    request: z.unknown().optional(),
    expect: z.enum(["valid", "invalid"]),
    note: z.string().optional(),
  })
  .refine((item) => (item.reply === undefined) !== (item.file === undefined), "give exactly one of reply or file");

const manifestSchema = z.strictObject({ platform: z.string().min(1), cases: z.array(caseSchema).min(1) });

const encode = (value: unknown): Buffer => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));

const platforms = readdirSync(root, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe("conformance corpus", () => {
  it("covers every platform with a manifest", () => {
    assert.deepEqual([...platforms].sort(), ["plivo", "retell", "teler", "telnyx", "twilio", "vapi", "vonage"]);
  });

  for (const platform of platforms) {
    const dir = join(root, platform);
    const read = manifestSchema.safeParse(JSON.parse(readFileSync(join(dir, "cases.json"), "utf8")));
    if (!read.success) throw new Error(`fixtures/conformance/${platform}/cases.json: ${z.prettifyError(read.error)}`);
    const manifest = read.data;

    describe(platform, () => {
      it("names its platform and gives each case a unique name", () => {
        assert.equal(manifest.platform, platform);
        const names = manifest.cases.map((item) => item.name);
        assert.equal(new Set(names).size, names.length);
      });

      for (const item of manifest.cases) {
        const title = `${item.expect}: ${item.name}`;
        it(title, async () => {
          const failures = await replyFailures({
            platform,
            event: item.event,
            command: item.command,
            method: item.method,
            contentType: item.contentType,
            body: item.file === undefined ? encode(item.reply) : readFileSync(join(dir, item.file)),
            request: item.request === undefined ? Buffer.alloc(0) : encode(item.request),
          });
          if (item.expect === "valid") assert.deepEqual(failures, [], `${item.source}\n${failures.join("\n")}`);
          else assert.ok(failures.length > 0, `expected a failure (${item.source})`);
        });
      }
    });
  }
});

// ---- the overrides that make it so: each one sourced, each one changing the generated grammar ----

describe("grammar overrides (src/platforms/<id>/overrides.json)", () => {
  const source = /^(https:\/\/\S+|github:[\w.-]+\/[\w.-]+ \S+)$/;

  it("every override names its source, its basis and why, and changes the SDK's grammar", async () => {
    const vonage = await import("../../src/platforms/vonage/grammar.js");
    const twilio = await import("../../src/platforms/twilio/grammar.js");
    const teler = await import("../../src/platforms/teler/grammar.js");
    const vapi = await import("../../src/platforms/vapi/grammar.js");
    const sets: [string, readonly { field: string; source: string; also?: string[] | undefined; basis: string; note: string }[], (index: number) => boolean][] =
      [
        [
          "vonage",
          vonage.nccoOverrides,
          (i) => JSON.stringify(vonage.withOverrides(vonage.nccoGrammar, vonage.nccoOverrides.slice(i, i + 1))) !== JSON.stringify(vonage.nccoGrammar),
        ],
        [
          "twilio",
          twilio.twimlOverrides,
          (i) => JSON.stringify(twilio.withOverrides(twilio.sdkGrammar, twilio.twimlOverrides.slice(i, i + 1))) !== JSON.stringify(twilio.sdkGrammar),
        ],
        [
          "teler",
          teler.telerOverrides,
          (i) => JSON.stringify(teler.withOverrides(teler.sdkGrammar, teler.telerOverrides.slice(i, i + 1))) !== JSON.stringify(teler.sdkGrammar),
        ],
        [
          "vapi",
          vapi.vapiOverrides,
          (i) => JSON.stringify(vapi.withOverrides(vapi.sdkGrammar, vapi.vapiOverrides.slice(i, i + 1))) !== JSON.stringify(vapi.sdkGrammar),
        ],
      ];
    let count = 0;
    for (const [platform, overrides, changes] of sets) {
      assert.ok(overrides.length > 0, platform);
      overrides.forEach((override, index) => {
        const at = `${platform} ${override.field}`;
        assert.match(override.source, source, at);
        for (const other of override.also ?? []) assert.match(other, source, at);
        assert.ok(["api-reference", "official-sample", "sdk-type"].includes(override.basis), at);
        assert.ok(override.note.length > 10, `${at}: say why`);
        assert.ok(changes(index), `${at}: changes nothing in the SDK's grammar`);
        count += 1;
      });
    }
    assert.equal(count, 16);
  });

  it("refuses an override that names no field of the grammar", async () => {
    const vonage = await import("../../src/platforms/vonage/grammar.js");
    const bad = {
      field: "talk.nothing.here",
      accept: { type: "string" as const },
      source: "https://example.test/",
      basis: "api-reference" as const,
      note: "a test of a bad path",
    };
    assert.throws(() => vonage.withOverrides(vonage.nccoGrammar, [bad]), /talk\.nothing\.here names no field/);
  });

  it("refuses an overrides file with a row that names no source", async () => {
    const { readOverrides } = await import("../../src/platforms/shared/overrides.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { pathToFileURL } = await import("node:url");
    const file = join(mkdtempSync(join(tmpdir(), "vwh-overrides-")), "overrides.json");
    writeFileSync(
      file,
      JSON.stringify({ overrides: [{ field: "a.b", accept: "string", source: "trust me", basis: "official-sample", note: "no source given here" }] }),
    );
    assert.throws(() => readOverrides(pathToFileURL(file), z.string()), /overrides\[0\]\.source|source/);
  });

  it("keeps the generated grammars as extracted: the overrides apply to copies", async () => {
    const vonage = await import("../../src/platforms/vonage/grammar.js");
    const raw = JSON.parse(readFileSync(new URL("../../../src/platforms/vonage/grammar.json", import.meta.url), "utf8")) as unknown;
    assert.deepEqual(vonage.nccoGrammar, raw);
  });
});
