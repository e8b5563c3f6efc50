/** The web inspector in process: what it serves, what it masks, Replay, and its Host/Origin checks. */
import assert from "node:assert/strict";
import { get } from "node:http";
import { describe, it } from "node:test";
import { request } from "undici";
import { getScheme } from "../../src/signing/index.js";
import { startInspector, type ExchangeView } from "../../src/tunnel/inspector.js";
import { startProxy } from "../../src/tunnel/proxy.js";
import { secretNeedles } from "../../src/tunnel/redact.js";
import { TunnelSession } from "../../src/tunnel/session.js";
import { newSecret, startServer } from "../helpers.js";

const secret = newSecret();
const scheme = getScheme("standard");
const signer = scheme.create([{ value: secret, source: "" }], { purpose: "sign" });

function signedHeaders(body: string, id = "evt_i1") {
  return {
    ...signer.sign({ id, timestamp: Math.floor(Date.now() / 1000), body: Buffer.from(body), method: "POST", url: "", contentType: "application/json" }).headers,
    "content-type": "application/json",
  };
}

/** Reads server-sent events until `count` exchanges have arrived. */
function readEvents(url: string, count: number, headers: Record<string, string> = {}): Promise<{ hello: unknown; exchanges: ExchangeView[] }> {
  return new Promise((resolve, reject) => {
    const exchanges: ExchangeView[] = [];
    let hello: unknown;
    let buffer = "";
    const outgoing = get(url, { headers }, (response) => {
      if (response.statusCode !== 200) return reject(new Error(`status ${response.statusCode}`));
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event === "hello") hello = JSON.parse(data!);
          if (event === "exchange") exchanges.push(JSON.parse(data!) as ExchangeView);
          if (exchanges.length === count) {
            outgoing.destroy();
            resolve({ hello, exchanges });
          }
        }
      });
    });
    outgoing.on("error", (error) => (exchanges.length === count ? undefined : reject(error)));
  });
}

async function startAll() {
  const handler = await startServer((received, response) => {
    const seen = received.headers["webhook-timestamp"];
    response
      .writeHead(200, { "content-type": "application/json", "set-cookie": "sid=1" })
      .end(JSON.stringify({ instructions: [{ type: "speak", text: `seen ${seen}` }] }));
  });
  let session: TunnelSession | undefined;
  const proxy = await startProxy({
    upstream: new URL(`http://localhost:${handler.port}`),
    maxBodyBytes: 1 << 20,
    upstreamTimeoutMs: 5000,
    onExchange: (exchange) => void session?.observe(exchange),
  });
  session = new TunnelSession({
    verifier: scheme.create([{ value: secret, source: "" }], { purpose: "verify" }),
    resigner: signer,
    signatureHeaders: scheme.headers({ purpose: "verify" }),
    toleranceSeconds: 300,
    requestUrl: (path) => `${proxy.url}${path}`,
    forward: proxy.forward,
  });
  const inspector = await startInspector({ session, port: 0, secretNeedles: secretNeedles([secret]), signatureHeaders: scheme.headers({ purpose: "verify" }) });
  return {
    handler,
    proxy,
    inspector,
    close: async () => {
      await inspector.close();
      await proxy.close();
      await handler.close();
    },
  };
}

describe("the web inspector", () => {
  it("streams every exchange with its verdict, masks secrets, and replays re-signed or as received", async () => {
    const { handler, proxy, inspector, close } = await startAll();
    try {
      const body = '{"event_type":"call.started","event_id":"evt_i1","call_id":"call_i","sequence":1}';
      await (
        await request(`${proxy.url}/hook`, { method: "POST", headers: { ...signedHeaders(body), authorization: "Bearer tok", "x-vapi-secret": secret }, body })
      ).body.dump();
      await (await request(`${proxy.url}/hook`, { method: "POST", headers: signedHeaders(body), body: body.replace("1}", "2}") })).body.dump();
      const { hello, exchanges } = await readEvents(`${inspector.url}events`, 2);
      assert.deepEqual(hello, { keep: 500, resign: { available: true, reason: null } });
      const [valid, forged] = exchanges;
      assert.deepEqual(
        [valid!.signature, forged!.signature],
        [
          { valid: true, reason: null },
          { valid: false, reason: "no matching signature" },
        ],
      );
      assert.deepEqual([valid!.event_type, valid!.call_id, valid!.reply!.actions], ["call.started", "call_i", ["speak"]]);
      assert.equal(valid!.request.body.data, body);
      for (const name of ["authorization", "x-vapi-secret", "webhook-signature"]) assert.equal(valid!.request.headers[name], "[redacted]", name);
      assert.equal(valid!.reply!.headers["set-cookie"], "[redacted]");
      assert.ok(!JSON.stringify(exchanges).includes(secret.slice(6)), "the secret never reaches the page");

      const post = (id: number, mode: string, headers: Record<string, string> = { origin: inspector.url.slice(0, -1), "content-type": "application/json" }) =>
        request(`${inspector.url}api/exchanges/${id}/replay`, { method: "POST", headers, body: JSON.stringify({ mode }) });
      const resigned = await post(forged!.id, "resign");
      assert.equal(resigned.statusCode, 200);
      const replay = (await resigned.body.json()) as ExchangeView;
      assert.deepEqual(
        [replay.replay_of, replay.replay_mode, replay.signature],
        [forged!.id, "resign", { valid: true, reason: null }],
        "a forged request re-signed verifies",
      );
      assert.equal(handler.requests.at(-1)!.body.toString(), body.replace("1}", "2}"), "the same bytes");
      const original = (await (await post(valid!.id, "original")).body.json()) as ExchangeView;
      assert.equal(handler.requests.at(-1)!.headers["webhook-signature"], handler.requests[0]!.headers["webhook-signature"], "sent with its original headers");
      assert.equal(original.replay_mode, "original");

      assert.equal((await post(999, "resign")).statusCode, 404);
      assert.equal((await post(valid!.id, "sideways")).statusCode, 400);
      assert.equal((await post(valid!.id, "resign", { "content-type": "application/json" })).statusCode, 403, "no Origin: not the page");
      assert.equal((await post(valid!.id, "resign", { origin: "http://evil.example", "content-type": "application/json" })).statusCode, 403);
      assert.equal(
        (await post(valid!.id, "resign", { origin: inspector.url.slice(0, -1), "content-type": "text/plain" })).statusCode,
        415,
        "a simple cross-site form post is refused",
      );
      assert.equal(handler.requests.length, 4, "refused replays sent nothing");
    } finally {
      await close();
    }
  });

  it("serves its page with a strict policy and refuses other Hosts and Origins (DNS rebinding)", async () => {
    const { inspector, close } = await startAll();
    try {
      const page = await request(inspector.url);
      assert.equal(page.statusCode, 200);
      assert.match(page.headers["content-security-policy"] as string, /default-src 'none'; script-src 'self'/);
      assert.match(await page.body.text(), /<script src="\/inspector\.js" defer><\/script>/);
      const script = await request(`${inspector.url}inspector.js`);
      assert.equal(script.headers["content-type"], "text/javascript; charset=utf-8");
      await script.body.dump();
      const localhost = await request(`http://localhost:${inspector.port}/`, { headers: { host: `localhost:${inspector.port}` } });
      assert.equal(localhost.statusCode, 200);
      await localhost.body.dump();
      const rebound = await request(inspector.url, { headers: { host: `attacker.example:${inspector.port}` } });
      assert.equal(rebound.statusCode, 403);
      await rebound.body.dump();
      const events = await request(`${inspector.url}events`, { headers: { origin: "http://attacker.example" } });
      assert.equal(events.statusCode, 403);
      await events.body.dump();
      const missing = await request(`${inspector.url}nothing`);
      assert.equal(missing.statusCode, 404);
      await missing.body.dump();
    } finally {
      await close();
    }
  });

  it("keeps only the latest exchanges replayable, by count and by body bytes", async () => {
    const handler = await startServer((_request, response) => void response.writeHead(204).end());
    const proxy = await startProxy({ upstream: new URL(`http://localhost:${handler.port}`), maxBodyBytes: 1 << 20, upstreamTimeoutMs: 5000 });
    try {
      const session = new TunnelSession({
        verifier: undefined,
        resigner: "no secret",
        signatureHeaders: [],
        toleranceSeconds: 300,
        requestUrl: (path) => path,
        forward: proxy.forward,
        keep: 3,
        keepBytes: 2015,
      });
      const exchange = (size: number) => ({
        receivedAt: new Date(),
        method: "POST",
        path: "/",
        headers: {},
        body: Buffer.alloc(size),
        status: 204,
        latencyMs: 1,
        proxyError: undefined,
        reply: undefined,
      });
      for (const size of [10, 10, 10, 10]) session.observe(exchange(size));
      assert.deepEqual(
        session.list().map((held) => held.id),
        [2, 3, 4],
      );
      session.observe(exchange(2000));
      assert.deepEqual(
        session.list().map((held) => held.id),
        [4, 5],
        "over the byte budget, the oldest go first",
      );
      await assert.rejects(session.replay(1, "original"), /no exchange #1/);
      await assert.rejects(session.replay(4, "resign"), /cannot re-sign: no secret/);
      assert.equal((await session.replay(4, "original")).replay?.of, 4);
    } finally {
      await proxy.close();
      await handler.close();
    }
  });
});
