/**
 * vwh takes undici's Agent and request from their own modules (src/transport/undici-core.ts), so that a
 * start does not load the whole of undici. They must stay undici's own: the same class as the index's,
 * the same request, the same cookie parser; and nothing in src/ may import undici's index again.
 */
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as undici from "undici";
import { Agent, dispatch, parseSetCookies, request } from "../../src/transport/undici-core.js";
import { repoRoot, startListener, type TestServer } from "../helpers.js";

describe("undici's parts, without its index", () => {
  let server: TestServer;
  before(async () => {
    server = await startListener((incoming, response) => {
      let body = "";
      incoming.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      incoming.on("end", () => {
        response.setHeader("set-cookie", ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"]);
        response.writeHead(201, { "content-type": "text/plain" }).end(`${incoming.method} ${incoming.url} ${body}`);
      });
    });
  });
  after(() => server.close());

  it("Agent is the index's class", () => {
    assert.equal(Agent, undici.Agent);
  });

  it("request answers as undici's request does: through a given dispatcher, the global one, and dispatch", async () => {
    const url = new URL(`${server.url}?x=1`);
    const agent = new Agent();
    try {
      const ours = await request(url, { method: "POST", body: "hello", dispatcher: agent });
      const theirs = await undici.request(url, { method: "POST", body: "hello", dispatcher: agent });
      assert.equal(ours.statusCode, 201);
      assert.equal(ours.statusCode, theirs.statusCode);
      assert.deepEqual(ours.headers["set-cookie"], theirs.headers["set-cookie"]);
      const [ourBody, theirBody] = [await ours.body.text(), await theirs.body.text()];
      assert.equal(ourBody, `POST ${url.pathname}?x=1 hello`);
      assert.equal(ourBody, theirBody);

      const global = await request(url, { method: "PUT", body: "g" });
      assert.equal(await global.body.text(), `PUT ${url.pathname}?x=1 g`);
      const direct = await dispatch(agent, { origin: url.origin, path: "/raw", method: "GET" });
      assert.equal(await direct.body.text(), "GET /raw ");
    } finally {
      await agent.close();
    }
  });

  it("parseSetCookies reads cookies as undici's getSetCookies does", () => {
    const values = ["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT; HttpOnly"];
    const headers = new undici.Headers();
    for (const value of values) headers.append("set-cookie", value);
    assert.deepEqual(parseSetCookies(values), undici.getSetCookies(headers));
    assert.equal(parseSetCookies(values)[1]?.httpOnly, true);
  });

  it("src/ imports undici's values only through undici-core (start-up.test.ts checks a run never loads undici's index)", async () => {
    const offenders: string[] = [];
    for (const name of await readdir(join(repoRoot, "src"), { recursive: true })) {
      if (!name.endsWith(".ts") || name === join("transport", "undici-core.ts")) continue;
      const source = await readFile(join(repoRoot, "src", name), "utf8");
      if (/^import (?!type )[^;]*from "undici"/m.test(source) || /import\("undici"\)|require\("undici"\)/.test(source)) offenders.push(name);
    }
    assert.deepEqual(offenders, []);
  });
});
