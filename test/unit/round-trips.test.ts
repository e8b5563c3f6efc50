/**
 * Byte-exact round trips of bodies that are not UTF-8 (issue 30): a recording written by the tunnel's
 * recorder, loaded and replayed; an exhausted delivery written to the dead-letter file, loaded and
 * replayed — each must reach the handler as the very bytes that went in (a lossy decode or an empty
 * replay that still exits 0 is the bug). In process, against real servers on 127.0.0.1, fake clock.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { simulate, type CallFlow } from "../../src/api.js";
import { appendDeadLetter, loadDeadLetters } from "../../src/files/dead-letters.js";
import { loadFlow } from "../../src/files/call-flow.js";
import { rawBody } from "../../src/files/raw-request.js";
import { Recorder } from "../../src/tunnel/recorder.js";
import { fakeClock, newSecret, startServer, withTempDir, type TestServer } from "../helpers.js";

const secret = newSecret();

/** Bodies a decode to text and back would change: invalid UTF-8, lone surrogates, NULs and a BOM, high bytes. */
const bodies: Record<string, Buffer> = {
  "invalid UTF-8": Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x80, 0x41]),
  "a CESU-8 surrogate": Buffer.from([0x7b, 0xed, 0xa0, 0x80, 0x7d]),
  "a cut multi-byte character": Buffer.from([0x48, 0x69, 0xe2, 0x82]),
  "latin-1 text": Buffer.from("Caf\u00e9 +15550100001 \u00fc", "latin1"),
  "every byte": Buffer.from(Array.from({ length: 256 }, (_, index) => index)),
  "a UTF-8 BOM and JSON": Buffer.from([0xef, 0xbb, 0xbf, ...Buffer.from('{"event_type":"call.ended"}')]),
};

const run = (server: TestServer, flows: (string | CallFlow)[], extra: Parameters<typeof simulate>[1] extends infer O ? Partial<O> : never = {}) => {
  const clock = fakeClock();
  return simulate(flows, { url: server.url, secrets: [secret], seed: 1, now: clock.now, wait: clock.wait, ...extra });
};

const recordedFlow = (body: Buffer): CallFlow => ({
  version: 1,
  name: "recorded",
  events: [
    {
      raw: {
        method: "POST",
        path: "/webhooks/voice",
        headers: { "content-type": "application/octet-stream" },
        body: body.toString("base64"),
        body_encoding: "base64",
        received_at: "2026-11-23T10:00:00.000Z",
      },
    },
  ],
});

describe("dead letters keep a binary body byte for byte", () => {
  it("written after the retries run out, loaded and replayed: the handler gets the same bytes, and the replay passes", async () => {
    const down = await startServer((_request, response) => void response.writeHead(503).end());
    const up = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        for (const [name, body] of Object.entries(bodies)) {
          const dlq = join(dir, `${name.replace(/\W+/g, "-")}.jsonl`);
          const failed = await run(down, [recordedFlow(body)], { retries: 1, backoffMs: 1, deadLetter: (entry) => appendDeadLetter(dlq, entry) });
          assert.equal(failed.summary.deadLettered, 1, name);
          assert.deepEqual(down.requests.at(-1)!.body, body, `${name}: the delivery itself`);
          const [line] = (await readFile(dlq, "utf8")).trim().split("\n");
          const entry = JSON.parse(line!) as { raw: { body: string; body_encoding?: string } };
          const text = Buffer.from(body.toString("utf8")).equals(body);
          assert.equal(entry.raw.body_encoding, text ? undefined : "base64", name);
          assert.deepEqual(rawBody({ body: entry.raw.body, body_encoding: text ? "utf8" : "base64" }), body, name);

          const loaded = await loadDeadLetters(dlq, "vwh");
          assert.deepEqual(rawBody(loaded.flow.events![0]!.raw!), body, `${name}: loaded`);
          const before = up.requests.length;
          const replay = await run(up, [dlq]);
          assert.equal(replay.summary.failed, 0, name);
          assert.equal(up.requests.length, before + 1, name);
          assert.deepEqual(up.requests.at(-1)!.body, body, `${name}: replayed`);
          assert.equal(up.requests.at(-1)!.headers["content-length"], String(body.length), name);
        }
      });
    } finally {
      await down.close();
      await up.close();
    }
  });

  it("a UTF-8 body is stored as text, and still comes back as the same bytes", async () => {
    const down = await startServer((_request, response) => void response.writeHead(500).end());
    const up = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const body = Buffer.from('{"text":"caf\u00e9 \u{1F600}"}');
        const dlq = join(dir, "utf8.jsonl");
        await run(down, [recordedFlow(body)], { deadLetter: (entry) => appendDeadLetter(dlq, entry) });
        const entry = JSON.parse((await readFile(dlq, "utf8")).trim()) as { raw: { body: string; body_encoding?: string } };
        assert.equal(entry.raw.body_encoding, undefined);
        assert.equal(entry.raw.body, body.toString("utf8"));
        await run(up, [dlq]);
        assert.deepEqual(up.requests.at(-1)!.body, body);
      });
    } finally {
      await down.close();
      await up.close();
    }
  });
});

describe("recordings keep binary bodies byte for byte, both ways", () => {
  it("the recorder's file loads with the request and reply bodies as they were, and replays the request's bytes", async () => {
    const handler = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "calls.json");
        const recorder = await Recorder.open(file, { redactPii: false });
        const entries = Object.entries(bodies);
        for (const [index, [name, body]] of entries.entries()) {
          const n = await recorder.append({
            receivedAt: new Date("2026-11-23T10:00:00Z"),
            method: "POST",
            path: `/webhooks/voice?n=${index}`,
            url: undefined,
            headers: { "content-type": "application/octet-stream", "x-name": name },
            body,
          });
          await recorder.appendResponse(
            n,
            { status: 200, headers: { "content-type": "application/octet-stream" }, body: Buffer.concat([body, Buffer.from([0xff])]) },
            1,
          );
        }
        assert.equal((await recorder.finish("binary")).file, file);

        const loaded = await loadFlow(file);
        const events = loaded.flow.events!;
        assert.equal(events.length, entries.length);
        for (const [index, [name, body]] of entries.entries()) {
          const raw = events[index]!.raw!;
          assert.deepEqual(rawBody(raw), body, `${name}: request`);
          assert.deepEqual(rawBody(raw.response!), Buffer.concat([body, Buffer.from([0xff])]), `${name}: reply`);
        }
        const replay = await run(handler, [file]);
        assert.equal(replay.summary.failed, 0);
        assert.deepEqual(
          handler.requests.map((request) => request.body),
          entries.map(([, body]) => body),
        );
      });
    } finally {
      await handler.close();
    }
  });
});
