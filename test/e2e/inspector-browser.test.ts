/**
 * The web inspector in a real browser: Debian's chromium driven by playwright-core (a devDependency).
 * Starts `vwh tunnel --local` (in process), sends a signed and a forged request through its proxy, watches them
 * appear with their verdicts, filters, presses Replay and sees the new reply beside the old one.
 * Skips, saying why, where /usr/bin/chromium is not installed (README: apt-get install chromium).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { browserSkip, openChromiumContext } from "../browser.js";
import { request } from "undici";
import { getScheme } from "../../src/signing/index.js";
import { newSecret, startServer, tunnelInProcess } from "../helpers.js";

describe("the inspector in chromium", () => {
  it("shows signed and forged requests live with their verdicts, filters them, and replays one", { skip: browserSkip, timeout: 60_000 }, async () => {
    const secret = newSecret();
    const signer = getScheme("standard").create([{ value: secret, source: "" }], { purpose: "sign" });
    let replies = 0;
    const handler = await startServer((_request, response) => {
      replies += 1;
      response
        .writeHead(200, { "content-type": "application/json" })
        .end(JSON.stringify({ instructions: [{ type: "speak", text: `reply number ${replies}` }] }));
    });
    // The tunnel in this process: what is under test is the page, not the process.
    const vwh = await tunnelInProcess([String(handler.port), "--local", "--json"], { env: { VWH_SECRET: secret } });
    try {
      const ready = JSON.parse(await vwh.nextLine()) as { proxy_url: string; inspector_url: string };
      {
        const context = await openChromiumContext();
        try {
          const page = context.pages()[0] ?? (await context.newPage());
          await page.goto(ready.inspector_url);
          await page.locator("#connection[data-state=open]").waitFor();

          const send = async (body: string, tamper: boolean) => {
            const headers = signer.sign({
              id: "evt_b1",
              timestamp: Math.floor(Date.now() / 1000),
              body: Buffer.from(body),
              method: "POST",
              url: "",
              contentType: "application/json",
            }).headers;
            const sent = tamper ? body.replace("call_b", "call_x") : body;
            await (
              await request(`${ready.proxy_url}/webhooks/voice`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: sent })
            ).body.dump();
          };
          await send('{"event_type":"call.started","event_id":"evt_b1","call_id":"call_b","sequence":1}', false);
          await send('{"event_type":"speech.transcribed","event_id":"evt_b2","call_id":"call_b","sequence":2}', true);

          const rows = page.locator("[data-testid=exchange]");
          await rows.nth(1).waitFor();
          assert.deepEqual(await rows.evaluateAll((elements) => elements.map((row) => row.getAttribute("data-verdict"))), ["valid", "invalid"]);
          assert.match((await rows.nth(1).locator("[data-testid=verdict]").textContent()) ?? "", /✗ no matching signature/);
          assert.deepEqual(
            await page.locator("[data-testid=call]").evaluateAll((elements) => elements.map((group) => group.getAttribute("data-call"))),
            ["call_b", "call_x"],
            "grouped by call",
          );

          await page.selectOption("#filter-verdict", "invalid");
          assert.equal(await rows.count(), 1);
          await page.selectOption("#filter-verdict", "");

          await rows.nth(1).click();
          const detail = page.locator("#detail");
          assert.match((await detail.locator("[data-testid=detail-verdict]").textContent()) ?? "", /no matching signature/);
          assert.match((await detail.locator("[data-testid=reply-original] [data-testid=body]").textContent()) ?? "", /reply number 2/);
          assert.equal(await detail.getByText("[redacted]").first().isVisible(), true, "the signature header is masked");
          await detail.locator("[data-testid=replay-resign]").click();
          const replayed = detail.locator("[data-testid=reply-replay]");
          await replayed.waitFor();
          assert.equal(await replayed.locator("[data-testid=reply-status]").textContent(), "200");
          assert.match((await replayed.locator("[data-testid=body]").textContent()) ?? "", /reply number 3/);
          assert.match((await replayed.textContent()) ?? "", /signature: ✓ valid/, "re-signed, the replay verifies");
          assert.match((await detail.locator("[data-testid=reply-original]").textContent()) ?? "", /reply number 2/, "the old reply stays beside the new");
          await rows.nth(2).waitFor();
          assert.equal(await rows.count(), 3, "the replay is listed too");
          assert.ok(!(await page.content()).includes(secret.slice(6)), "the secret never reaches the page");
          assert.match((await replayed.locator("[data-testid=forgery-warning]").textContent()) ?? "", /#2's signature was refused/);
        } finally {
          await context.close();
        }
      }
      const { stderr } = await vwh.stop();
      assert.match(
        stderr,
        /warning: replay #3: #2's signature was refused, yet re-signed with your secret the handler accepted it/,
        "the terminal says so too",
      );
    } finally {
      await vwh.stop();
      await handler.close();
    }
  });
});
