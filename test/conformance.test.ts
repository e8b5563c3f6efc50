/**
 * The conformance corpus (issue 24, "accept what each platform accepts"): replies reproduced from the
 * platforms' own code samples and API references, under fixtures/conformance/<platform>/cases.json.
 * Every `valid` case must pass the platform's reply check with no failure; every `invalid` one (a reply
 * the platform's docs say it refuses) must fail at least once. A valid case vwh refuses today carries
 * `known_false_failure` (vwh's message) and runs as a todo until its grammar is fixed.
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
  const { loadPlatform, isPlatformId } = await import("../src/platforms/registry.js");
  if (!isPlatformId(reply.platform)) throw new Error(`no platform ${reply.platform}`);
  const platform = await loadPlatform(reply.platform);
  const spec = platform.events[reply.event];
  if (!spec) throw new Error(`${reply.platform} has no event ${reply.event} (it has ${Object.keys(platform.events).join(", ")})`);
  if (reply.command !== undefined) {
    // Telnyx ignores reply bodies: the handler's REST commands are what its Call Control API checks.
    const { checkCommand } = await import("../src/platforms/telnyx/commands.js");
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

const root = join(fileURLToPath(new URL("../../", import.meta.url)), "fixtures", "conformance");

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
    file: z.string().regex(/^[\w.-]+$/).optional(),
    request: z.unknown().optional(),
    expect: z.enum(["valid", "invalid"]),
    known_false_failure: z.string().min(1).optional(),
    note: z.string().optional(),
  })
  .refine((item) => (item.reply === undefined) !== (item.file === undefined), "give exactly one of reply or file")
  .refine((item) => item.expect === "valid" || item.known_false_failure === undefined, "known_false_failure is for valid cases");

const manifestSchema = z.strictObject({ platform: z.string().min(1), cases: z.array(caseSchema).min(1) });

const encode = (value: unknown): Buffer => Buffer.from(typeof value === "string" ? value : JSON.stringify(value));

const platforms = readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);

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
        const todo = item.known_false_failure === undefined ? undefined : `vwh refuses it today: ${item.known_false_failure}`;
        it(title, { todo }, async () => {
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
