/**
 * Issue 26, the inspector's tools in chromium (playwright-core), one page load: columns aligned across
 * call groups, why a signature was refused, the reply pretty beside the request with vwh's findings,
 * edit-and-replay re-signed with the forgery warning, Copy as curl, Export of ticked rows and Clear.
 * Skips, saying why, where /usr/bin/chromium is not installed (README: apt-get install chromium).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { describe, it } from "node:test";
import { browserSkip, openChromiumContext } from "../browser.js";
import { startTwilioTunnel, token, twilioForm } from "../inspector-tunnel.js";

// A grammar failure vwh reports: Twilio has no input="keypad".
const badTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Hello</Say><Gather input="keypad"><Say>Press 1</Say></Gather></Response>';

describe("the inspector's tools in chromium (issue 26)", () => {
  it("explains a refused signature, shows the reply pretty with findings, edits and replays, copies as curl, exports, clears", {
    skip: browserSkip,
    timeout: 60_000,
  }, async () => {
    const tunnel = await startTwilioTunnel(() => 200, badTwiml);
    try {
      await tunnel.send(twilioForm);
      await tunnel.send(twilioForm, "http://abc.ngrok.app/voice"); // Twilio signed http://, vwh expects https://
      // Hostile text: shown as text, never as markup.
      await tunnel.send(twilioForm.replace("CA1", encodeURIComponent('CA2<img src=x onerror="document.title=1">')));
      {
        const context = await openChromiumContext({
          acceptDownloads: true,
          viewport: { width: 1400, height: 900 },
        });
        try {
          const page = context.pages()[0] ?? (await context.newPage());
          await page.goto(tunnel.inspector.url);
          await page.locator("#connection[data-state=open]").waitFor();
          const rows = page.locator("[data-testid=exchange]");
          await rows.nth(2).waitFor();
          assert.equal(await page.locator("[data-testid=call]").count(), 2);
          const lefts = await page.locator("[data-testid=status]").evaluateAll((cells) => cells.map((cell) => Math.round(cell.getBoundingClientRect().left)));
          assert.equal(new Set(lefts).size, 1, `one column for every call group: ${lefts}`);

          // Why #2 was refused.
          await rows.nth(1).click();
          const detail = page.locator("#detail");
          const explanation = detail.locator("[data-testid=signature-explanation]");
          assert.equal(await explanation.locator("[data-testid=expected-url]").textContent(), "https://abc.ngrok.app/voice");
          assert.deepEqual(await explanation.locator("[data-testid=candidate][data-matches=true] code").allTextContents(), ["http://abc.ngrok.app/voice"]);
          for (const which of ["expected-signature", "received-signature"])
            assert.match((await explanation.locator(`[data-testid=${which}]`).textContent()) ?? "", /^.{4}….{4}$/, `${which} masked`);

          // The reply beside the request, pretty, with vwh's findings.
          const reply = detail.locator("[data-testid=reply-original]");
          assert.match((await reply.locator("[data-testid=body]").textContent()) ?? "", /\n {2}<Gather input="keypad">\n {4}<Say>Press 1<\/Say>/);
          const findings = reply.locator("[data-testid=reply-findings]");
          assert.equal(await findings.getAttribute("data-failures"), "1");
          assert.match((await findings.textContent()) ?? "", /Response\/Gather\[1\]@input/);
          assert.equal(await reply.locator("[data-testid=reply-actions]").textContent(), " · Say, Gather");
          const [requestBox, replyBox] = [await detail.locator("[data-testid=request]").boundingBox(), await reply.boundingBox()];
          assert.ok(requestBox && replyBox && replyBox.x > requestBox.x + requestBox.width - 1, "side by side");
          assert.ok(replyBox.y < 900, "the reply is on screen without scrolling");

          // Edit Digits, send re-signed: the handler accepts it, and the page warns that vwh made a refused request valid.
          await detail.locator("[data-testid=edit]").click();
          const edited = twilioForm.replace("Digits=1234", "Digits=9999");
          await detail.locator("[data-testid=edit-body]").fill(edited);
          await detail.locator("[data-testid=send-edited-resign]").click();
          const replayed = detail.locator("[data-testid=reply-replay]");
          await replayed.waitFor();
          assert.equal(tunnel.handler.requests.at(-1)!.body.toString(), edited);
          assert.match((await replayed.locator("[data-testid=forgery-warning]").textContent()) ?? "", /signature was refused.*handler accepted it/);
          assert.match((await replayed.textContent()) ?? "", /signature: ✓ valid/);

          // Copy as curl: signed, on the server.
          await detail.locator("[data-testid=copy-curl]").click();
          assert.match((await detail.locator("[data-testid=curl]").textContent()) ?? "", /^curl .*-H 'x-twilio-signature: [A-Za-z0-9+/]{27}='/);

          // Export the first row as a recording.
          await rows.nth(0).locator("[data-testid=pick]").check();
          const [download] = await Promise.all([page.waitForEvent("download"), page.locator("[data-testid=export]").click()]);
          const recording = JSON.parse(await readFile((await download.path())!, "utf8")) as { platform: string; events: unknown[] };
          assert.deepEqual([recording.platform, recording.events.length], ["twilio", 1]);
          await page.locator("[data-testid=pick-all]").check();
          assert.equal(await page.locator("[data-testid=export]").textContent(), `Export selected (${await rows.count()})`);

          assert.ok(!(await page.content()).includes(token), "the secret never reaches the page");
          assert.equal(await page.locator("img").count(), 0, "request data is never markup");
          assert.match((await page.locator("[data-testid=call]").nth(1).textContent()) ?? "", /CA2<img src=x/);
          await page.locator("[data-testid=clear]").click();
          await page.locator("#empty:not([hidden])").waitFor();
          assert.equal(await rows.count(), 0);
        } finally {
          await context.close();
        }
      }
    } finally {
      await tunnel.close();
    }
  });
});
