/**
 * Issue 26, the inspector's acting endpoints in process, against a real proxy and handler on 127.0.0.1:
 * edit-and-replay re-signed with the tunnel's secret (and the forgery warning), Copy as curl, Clear,
 * Export as a recording `vwh simulate` replays, replies pretty with findings, and every acting endpoint
 * refusing what is not the page's own request.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { request } from "undici";
import { simulate } from "../../src/api.js";
import { getScheme } from "../../src/signing/index.js";
import { twilioSignature } from "../../src/signing/twilio.js";
import type { ExchangeView } from "../../src/tunnel/inspector.js";
import { withTempDir } from "../helpers.js";
import { startTwilioTunnel, token, twilioForm as form } from "../inspector-tunnel.js";

describe("the inspector's tools (issue 26)", () => {
  it("edits and replays re-signed, warns when that turns a forgery into an accepted request, copies as curl, reads replies, clears", async () => {
    const tunnel = await startTwilioTunnel();
    try {
      await tunnel.send(form);
      await tunnel.send(form, "http://abc.ngrok.app/voice"); // signed over http: refused here
      const [good, refused] = tunnel.session.list();
      assert.deepEqual([good!.signature?.valid, refused!.signature?.valid], [true, false]);

      // The reply, read by Twilio's reader, pretty and named.
      const view = (await tunnel.act(`/api/exchanges/${good!.id}/replay`, { mode: "original" })).json() as unknown as ExchangeView;
      assert.deepEqual(view.reply?.actions, ["Say", "Gather"]);
      assert.deepEqual(view.reply?.reading?.failures, []);
      assert.equal(view.reply?.reading?.platform, "twilio");
      assert.match(view.reply?.pretty ?? "", /\n {2}<Say>Hello<\/Say>\n {2}<Gather /, "indented");

      // The refused one explains itself: Twilio signed http://…, vwh expected https://….
      assert.equal(refused!.explanation?.expectedUrl, "https://abc.ngrok.app/voice");
      assert.deepEqual(
        refused!.explanation?.candidates.filter((candidate) => candidate.matches).map((candidate) => candidate.url),
        ["http://abc.ngrok.app/voice"],
      );

      // Edit Digits and re-sign: the handler gets the edited body with a signature valid for the public URL.
      const edited = form.replace("Digits=1234", "Digits=9999");
      const replayed = (await tunnel.act(`/api/exchanges/${good!.id}/replay`, { mode: "resign", body: edited })).json() as unknown as ExchangeView;
      const sent = tunnel.handler.requests.at(-1)!;
      assert.equal(sent.body.toString(), edited);
      assert.equal(sent.headers["x-twilio-signature"], twilioSignature(token, "https://abc.ngrok.app/voice", new URLSearchParams(edited)));
      assert.deepEqual([replayed.replay_edited, replayed.replay_forgery, replayed.signature?.valid], [true, false, true]);

      // Re-signing the refused request: the handler accepts it, and the replay says vwh made a forgery valid.
      const forged = (await tunnel.act(`/api/exchanges/${refused!.id}/replay`, { mode: "resign" })).json() as unknown as ExchangeView;
      assert.equal(forged.replay_forgery, true);
      assert.equal(forged.status, 200);

      // Copy as curl: what a replay would send, signed; the secret is not in it.
      const curl = (await tunnel.act(`/api/exchanges/${good!.id}/curl`, { mode: "resign", body: edited })).json();
      assert.match(String(curl.curl), /^curl -sS -i -X 'POST' 'http:\/\/localhost:\d+\/voice' /);
      assert.ok(String(curl.curl).includes(`-H 'x-twilio-signature: ${twilioSignature(token, "https://abc.ngrok.app/voice", new URLSearchParams(edited))}'`));
      assert.ok(String(curl.curl).endsWith(`--data-binary '${edited}'`));
      assert.ok(!String(curl.curl).includes(token));

      // Bad edits are refused with one line, and nothing is sent.
      const before = tunnel.handler.requests.length;
      assert.equal((await tunnel.act(`/api/exchanges/${good!.id}/replay`, { mode: "resign", path: "http://evil.example/" })).status, 400);
      assert.equal((await tunnel.act(`/api/exchanges/${good!.id}/replay`, { mode: "resign", extra: 1 })).status, 400);
      assert.equal((await tunnel.act(`/api/exchanges/${good!.id}/replay`, { mode: "resign", body: "x".repeat((1 << 20) + 1) })).status, 413);
      assert.equal(tunnel.handler.requests.length, before);

      // Clear lets go of everything.
      assert.equal((await tunnel.act("/api/clear", {})).status, 200);
      assert.equal(tunnel.session.list().length, 0);
    } finally {
      await tunnel.close();
    }
  });

  it("re-signs an edited Twilio JSON request with the new body's bodySHA256 in place of the old", async () => {
    const tunnel = await startTwilioTunnel();
    try {
      const body = '{"CallSid":"CA9","Digits":"1234"}';
      const signer = getScheme("twilio").create([{ value: token, source: "" }], { purpose: "sign" });
      const signed = signer.sign({
        id: "x",
        timestamp: 0,
        body: Buffer.from(body),
        method: "POST",
        url: "https://abc.ngrok.app/voice?a=1",
        contentType: "application/json",
      });
      const path = signed.url.slice("https://abc.ngrok.app".length);
      await (
        await request(`${tunnel.proxyUrl}${path}`, { method: "POST", headers: { ...signed.headers, "content-type": "application/json" }, body })
      ).body.dump();
      const [held] = tunnel.session.list();
      assert.equal(held!.signature?.valid, true);
      const edited = body.replace("1234", "9999");
      const replay = (await tunnel.act(`/api/exchanges/${held!.id}/replay`, { mode: "resign", body: edited })).json() as unknown as ExchangeView;
      const sent = tunnel.handler.requests.at(-1)!;
      assert.equal(sent.url, `/voice?a=1&bodySHA256=${createHash("sha256").update(edited).digest("hex")}`, "one bodySHA256, the new body's");
      assert.equal(replay.signature?.valid, true);
    } finally {
      await tunnel.close();
    }
  });

  it("no forgery warning when the handler refuses the re-signed request", async () => {
    const tunnel = await startTwilioTunnel(() => 403);
    try {
      // A valid signature refused by the handler: the page says what it most likely checks differently.
      await tunnel.send(form);
      const valid = (await tunnel.act(`/api/exchanges/${tunnel.session.list()[0]!.id}/replay`, { mode: "resign" })).json() as unknown as ExchangeView;
      assert.match(
        valid.handler_refusal ?? "",
        /valid, yet the handler answered 403\. The signature covers https:\/\/abc\.ngrok\.app\/voice; the handler is reached at http:\/\/localhost:\d+\/voice/,
      );
      tunnel.session.clear();
      await tunnel.send(form, "http://abc.ngrok.app/voice");
      const [refused] = tunnel.session.list();
      const replay = (await tunnel.act(`/api/exchanges/${refused!.id}/replay`, { mode: "resign" })).json() as unknown as ExchangeView;
      assert.deepEqual([replay.status, replay.replay_forgery], [403, false]);
      assert.ok(refused!.explanation, "a webhook-sized refusal is explained");
      // A forged body far over webhook size is not signed again a dozen times to explain it.
      await tunnel.send(`${form}&Pad=${"x".repeat(300 * 1024)}`, "http://abc.ngrok.app/voice");
      const big = tunnel.session.list().at(-1)!;
      assert.deepEqual([big.signature?.valid, big.explanation], [false, undefined]);
    } finally {
      await tunnel.close();
    }
  });

  it("exports the chosen exchanges as a recording with its platform, which vwh simulate replays", async () => {
    const tunnel = await startTwilioTunnel();
    try {
      await tunnel.send(form);
      await tunnel.send(form.replace("CA1", "CA2"));
      await tunnel.send(form.replace("CA1", "CA3"));
      const ids = tunnel.session.list().map((exchange) => exchange.id);
      const exported = await tunnel.act("/api/export", { ids: [ids[0], ids[2]] });
      assert.equal(exported.status, 200);
      const recording = exported.json() as {
        platform: string;
        events: { raw: { url?: string; headers: Record<string, string>; body: string; response?: unknown } }[];
      };
      assert.equal(recording.platform, "twilio");
      assert.deepEqual(
        recording.events.map((event) => new URLSearchParams(event.raw.body).get("CallSid")),
        ["CA1", "CA3"],
      );
      assert.equal(recording.events[0]!.raw.url, "https://abc.ngrok.app/voice");
      assert.ok(recording.events[0]!.raw.response, "the reply is kept, as --record keeps it");
      await withTempDir(async (dir) => {
        const file = join(dir, "exported.json");
        await writeFile(file, exported.text);
        const result = await simulate([file], { url: `http://127.0.0.1:${tunnel.handler.port}/voice`, secrets: [token] });
        assert.deepEqual([result.summary.events, result.summary.failed], [2, 0]);
      });
      assert.equal((await tunnel.act("/api/export", { ids: [999] })).status, 404);
      assert.equal((await tunnel.act("/api/export", { ids: "all" })).status, 400);
    } finally {
      await tunnel.close();
    }
  });

  it("refuses every acting endpoint to what is not the page: no Origin, another Origin, another site, a form post, a GET", async () => {
    const tunnel = await startTwilioTunnel();
    try {
      await tunnel.send(form);
      const [held] = tunnel.session.list();
      const before = tunnel.handler.requests.length;
      const json = "application/json";
      const hostile: [string, Record<string, string>, number][] = [
        ["no Origin", { "content-type": json }, 403],
        ["another Origin", { origin: "http://evil.example", "content-type": json }, 403],
        ["another port of localhost (same-site)", { origin: tunnel.origin, "content-type": json, "sec-fetch-site": "same-site" }, 403],
        ["cross-site", { origin: tunnel.origin, "content-type": json, "sec-fetch-site": "cross-site" }, 403],
        ["a form post", { origin: tunnel.origin, "content-type": "application/x-www-form-urlencoded" }, 415],
      ];
      const endpoints: [string, unknown][] = [
        [`/api/exchanges/${held!.id}/replay`, { mode: "resign" }],
        [`/api/exchanges/${held!.id}/curl`, { mode: "resign" }],
        ["/api/clear", {}],
        ["/api/export", { ids: [held!.id] }],
      ];
      for (const [path, payload] of endpoints) {
        for (const [what, headers, status] of hostile) assert.equal((await tunnel.act(path, payload, headers)).status, status, `${path}: ${what}`);
        const get = await request(`${tunnel.origin}${path}`, { headers: { origin: tunnel.origin } });
        assert.equal(get.statusCode, 405, `${path}: GET`);
        await get.body.dump();
      }
      assert.equal(tunnel.handler.requests.length, before, "nothing was replayed");
      assert.equal(tunnel.session.list().length, 1, "nothing was cleared");
    } finally {
      await tunnel.close();
    }
  });
});
