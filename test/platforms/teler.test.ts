/** The teler platform: grammar freshness, flow replies, the stream move, status callbacks, and every starter of the AI platforms. */
import assert from "node:assert/strict";
import type { RequestListener, Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { defaultHmacSettings } from "../../src/signing/hmac.js";
import { getScheme } from "../../src/signing/index.js";
import { loadPlatform } from "../../src/platforms/registry.js";
import type { HttpReply } from "../../src/platforms/types.js";
import { parseTelerReply } from "../../src/platforms/teler/reply.js";
import { fakeClock, fixture, startListener, type TestServer } from "../helpers.js";
import { loadFlow } from "../../src/files/call-flow.js";
import { failureLines, fixtureFlow, grammarNowAndCommitted, inlineFlow, loadRepoModule, simulateAgainst } from "../platform-helpers.js";

interface TelerHandlerModule {
  createTelerHandler(options: { secrets: string[]; publicHost?: string }): RequestListener;
  createTelerServer(options: { secrets: string[]; publicHost?: string }): Server;
  FLOW_PATH: string;
}

const secret = "teler-test-secret";
const load = loadRepoModule;
const hmac = { scheme: "hmac", secret, settings: { purpose: "sign" as const, hmac: defaultHmacSettings } };

describe("teler platform", () => {
  let server: TestServer;
  before(async () => {
    const handlers = await load<TelerHandlerModule>("examples/teler-handler.js");
    // The handler's own server: its flow streams the call to the media agent on the same port.
    const telerServer = handlers.createTelerServer({ secrets: [secret] });
    await new Promise<void>((resolve) => telerServer.listen(0, "127.0.0.1", resolve));
    const { port } = telerServer.address() as AddressInfo;
    server = {
      url: `http://127.0.0.1:${port}${handlers.FLOW_PATH}`,
      port,
      requests: [],
      close: () => new Promise<void>((resolve) => (telerServer.closeAllConnections(), telerServer.close(() => resolve()))),
    };
  });
  after(() => server.close());

  it("grammar.json is what scripts/extract-teler-grammar.mjs extracts from the installed @frejun/teler", async () => {
    const [now, committed] = await grammarNowAndCommitted("teler");
    assert.equal(now, committed, "stale: run node scripts/extract-teler-grammar.mjs");
  });

  it("the bundled script passes: status callbacks, the flow request, and a stream move with protocol teler", async () => {
    const flow = await fixtureFlow("teler-stream.json");
    const result = await simulateAgainst(server, [flow], hmac);
    assert.deepEqual(failureLines(result), []);
    assert.deepEqual(
      result.flows[0]!.events.map((event) => event.eventType),
      ["call.initiated", "call.ringing", "call.answered", "flow", "call.completed"],
    );
    // The driver hands the engine the media stream the reply asked for.
    const platform = await loadPlatform("teler");
    const driver = await platform.startCall({
      call: { callId: "c1", from: undefined, to: undefined, direction: undefined },
      url: new URL("https://h.example/flow"),
      start: new Date(0),
      newId: (prefix) => `${prefix}_1`,
      settings: {},
      now: () => 0,
      wait: async () => {},
    });
    driver.caller({ kind: "connect" }, undefined);
    const move = await driver.next();
    assert.equal(move.kind === "send" && move.webhook.eventType, "flow");
    const reply: HttpReply = {
      status: 200,
      headers: { "content-type": "application/json" },
      body: Buffer.from('{"action":"stream","ws_url":"wss://h.example/media","sample_rate":"16k","chunk_size":640,"record":true}'),
    };
    const webhook = (move as { webhook: Parameters<typeof driver.replied>[0] }).webhook;
    driver.replied(webhook, {
      ok: true,
      reply,
      parsed: platform.parseReply(reply, { eventType: "flow", waits: true, expectsActions: false, request: webhook.request }),
    });
    assert.deepEqual(await driver.next(), {
      kind: "stream",
      stream: {
        url: new URL("wss://h.example/media"),
        protocol: "teler",
        headers: {},
        parameters: { sample_rate: "16k", chunk_size: "640", record: "true" },
        path: "action",
      },
    });
    driver.streamEnded({ kind: "caller_hangup" });
    assert.deepEqual(await driver.next(), { kind: "ended", reason: "caller_hangup" });
  });

  it("names what is wrong in a flow reply", () => {
    const request = { method: "POST" as const, url: new URL("http://h/"), body: Buffer.from("{}"), contentType: "application/json", headers: {} };
    const failures = (body: unknown) =>
      parseTelerReply(
        { status: 200, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify(body)) },
        { eventType: "flow", waits: true, expectsActions: false, request },
      ).failures.map((finding) => `${finding.path}: ${finding.message}`);
    assert.deepEqual(failures({ action: "stream", ws_url: "wss://a.example/m", sample_rate: "8k", chunk_size: 400, record: false }), []);
    assert.deepEqual(failures({ action: "play", file_url: "https://a.example/hello.mp3" }), []);
    assert.deepEqual(failures({ action: "hangup" }), []);
    assert.deepEqual(failures({ action: "Stream", ws_url: "wss://a.example/m" }), [
      `action: expected "stream", "play", "hangup" (@frejun/teler 1.0.8), got "Stream"`,
    ]);
    assert.deepEqual(failures({ action: "stream", url: "wss://a.example/m" }), [
      "url: expected ws_url: CallFlow.stream sends ws_url (a README variant shows url; unverified)",
    ]);
    assert.deepEqual(failures({ action: "stream", ws_url: "https://a.example/m", sample_rate: "32k", chunk_size: 100 }), [
      'ws_url: expected a wss:// URL, got "https://a.example/m"',
    ]);
    assert.deepEqual(failures({ action: "stream", ws_url: "wss://a.example/m", sample_rate: "32k", chunk_size: 2100, record: "yes" }), [
      'sample_rate: expected "8k" or "16k", got "32k"',
      "chunk_size: expected a multiple of 20 from 20 to 2000, got 2100",
      'record: expected true or false, got "yes"',
    ]);
  });

  it("the caller says something on the Teler stream, stays silent and talks over the agent: each answer is measured (issue 24)", async () => {
    const flow = await loadFlow(fixture("scripts/teler-conversation.json"));
    // Platform time on a fake clock, the socket in lockstep: the figures are the same on every run.
    const clock = fakeClock();
    const result = await simulateAgainst(server, [flow], { ...hmac, options: { now: clock.now, wait: clock.wait, mediaLockstep: true } });
    assert.deepEqual(failureLines(result), []);
    const turns = result.flows[0]!.turns!.slice(0, 4);
    assert.deepEqual(
      turns.map((turn) => turn.media?.protocol),
      ["teler", "teler", "teler", "teler"],
    );
    const [greeting, , answer, interrupted] = turns.map((turn) => turn.media!);
    assert.ok(greeting!.firstAudioMs !== undefined && answer!.firstAudioMs !== undefined, "the greeting and the answer were measured");
    assert.ok(answer!.agentAudioMs > 0, "the agent answered the caller with audio");
    assert.equal(interrupted!.stoppedOnInterrupt, true, "the agent cleared its audio when the caller talked over it");
    // A say step is a load error no more (it was refused for teler before).
    await inlineFlow({ version: 1, platform: "teler", name: "say", script: [{}, { say: "hello" }, { silence_ms: 500 }, { interrupt: "wait" }] });
  });

  it("the README's recipe for Teler's voice-app signing secret: X-Teler-Signature, hex HMAC-SHA256 over {timestamp}.{body} (community-observed, unverified)", async () => {
    const { createHmac } = await import("node:crypto");
    const settings = { purpose: "sign" as const, hmac: { ...defaultHmacSettings, header: "x-teler-signature", timestampHeader: "x-teler-timestamp" } };
    const signer = getScheme("hmac").create([{ value: secret, source: "(test)" }], settings);
    const body = Buffer.from('{"event":"call.answered","call_id":"c1"}');
    const { headers } = signer.sign({
      id: "evt_1",
      timestamp: 1_790_000_000,
      body,
      method: "POST",
      url: "https://h.example/teler/status",
      contentType: "application/json",
    });
    assert.equal(headers["x-teler-timestamp"], "1790000000");
    assert.equal(headers["x-teler-signature"], createHmac("sha256", secret).update(`1790000000.${body.toString()}`).digest("hex"));
  });

  it("a failing flow request fails the call, and the call-completed callback says so", async () => {
    const flow = await inlineFlow({ version: 1, platform: "teler", name: "bad", settings: { teler_status_callback: "/teler/status" }, script: [{}] });
    const broken = await startListener((request, response) => {
      request.resume();
      request.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end('{"action":"dance"}'));
    }, "/teler/flow");
    try {
      const result = await simulateAgainst(broken, [flow], hmac);
      assert.ok(failureLines(result).some((line) => line.startsWith('flow action: expected "stream"')));
      assert.equal(result.flows[0]!.turns![0]!.ended, "failed");
    } finally {
      await broken.close();
    }
  });

  it("every starter of vapi, retell and teler is a valid caller script for its platform", async () => {
    for (const id of ["vapi", "retell", "teler"] as const) {
      const platform = await loadPlatform(id);
      assert.ok(platform.starters.length > 0);
      for (const starter of platform.starters) await inlineFlow(starter.flow({ from: "+15550100001", to: "+15550100002" }), `${id}/${starter.id}`);
    }
  });
});
