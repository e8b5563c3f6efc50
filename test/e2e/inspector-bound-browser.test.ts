/**
 * The inspector page's bound in chromium (issue 26, defect 3): it keeps the same latest exchanges as
 * the server, dropping the oldest row as a new one arrives, and adds rows one by one instead of drawing
 * the whole list again per event. Skips, saying why, where /usr/bin/chromium is not installed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { browserSkip, openChromiumContext } from "../browser.js";
import { startInspector } from "../../src/tunnel/inspector.js";
import { TunnelSession } from "../../src/tunnel/session.js";

function observe(session: TunnelSession, count: number): void {
  for (let i = 0; i < count; i++) {
    const body = Buffer.from(JSON.stringify({ event_type: "call.started", call_id: `call_${i % 3}`, sequence: i }));
    session.observe({
      receivedAt: new Date(),
      method: "POST",
      path: "/hook",
      headers: { "content-type": "application/json" },
      body,
      status: 200,
      latencyMs: 1,
      proxyError: undefined,
      reply: { status: 200, headers: {}, body: Buffer.from("{}") },
    });
  }
}

describe("the inspector page in chromium keeps what the server keeps", () => {
  it("holds the latest `keep` exchanges and adds rows incrementally", { skip: browserSkip, timeout: 60_000 }, async () => {
    const session = new TunnelSession({
      verifier: undefined,
      resigner: "no secret",
      signatureHeaders: [],
      toleranceSeconds: 300,
      requestUrl: (path) => path,
      forward: async () => assert.fail("no replay here"),
      keep: 20,
    });
    observe(session, 30);
    const inspector = await startInspector({ session, port: 0, secretNeedles: [], signatureHeaders: [] });
    try {
      {
        const context = await openChromiumContext();
        try {
          const page = context.pages()[0] ?? (await context.newPage());
          await page.goto(inspector.url);
          await page.locator("#connection[data-state=open]").waitFor();
          const rows = page.locator("[data-testid=exchange]");
          await page.locator("[data-testid=exchange][data-id='30']").waitFor();
          const ids = async () => (await rows.evaluateAll((elements) => elements.map((row) => Number(row.getAttribute("data-id"))))).sort((a, b) => a - b);
          assert.deepEqual(
            await ids(),
            Array.from({ length: 20 }, (_, i) => i + 11),
          );
          // Marks a row element: drawn again, it would be a new element without the mark.
          await page.locator("[data-testid=exchange][data-id='25']").evaluate((row) => ((row as unknown as { marked: boolean }).marked = true));

          observe(session, 5);
          await page.locator("[data-testid=exchange][data-id='35']").waitFor();
          assert.deepEqual(
            await ids(),
            Array.from({ length: 20 }, (_, i) => i + 16),
            "the page keeps 20, as the server does",
          );
          assert.equal(
            await page.locator("[data-testid=exchange][data-id='25']").evaluate((row) => (row as unknown as { marked?: boolean }).marked),
            true,
            "existing rows are kept, not drawn again",
          );
          const counts = await page.locator("[data-testid=call] .count").allTextContents();
          assert.equal(
            counts.reduce((sum, text) => sum + Number(/(\d+) request/.exec(text)?.[1]), 0),
            20,
            "the call groups count what is shown",
          );
        } finally {
          await context.close();
        }
      }
    } finally {
      await inspector.close();
    }
  });
});
