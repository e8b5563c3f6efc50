/**
 * Redirects as each platform documents them (issue 23, item 4): Twilio follows 301, 302, 303 and 307 —
 * a GET of the Location after 301/302/303 (as a browser), the same request after 307 — and explains any
 * other 3xx as error 11216. A platform that documents no redirects (Vonage) refuses a 3xx.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { describe, it } from "node:test";
import { findingsOf, runOn, scriptOn, sendJson, sendXml, stubHandler } from "./verdicts-helpers.js";

/** What Express 4/5's `res.redirect(url)` writes for a request without an Accept header. */
function expressRedirect(response: ServerResponse, url: string, status = 302): void {
  const body = `Found. Redirecting to ${url}`;
  response
    .writeHead(status, {
      "x-powered-by": "Express",
      location: url,
      vary: "Accept",
      "content-type": "text/plain; charset=utf-8",
      "content-length": Buffer.byteLength(body),
    })
    .end(body);
}

describe("redirects (issue 23, item 4)", () => {
  it("twilio: a 302 from an Express res.redirect handler is followed with a GET of the Location", async () => {
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/voice") return expressRedirect(response, "/twilio/welcome");
      if (request.method === "GET" && request.url === "/twilio/welcome") return sendXml(response, "<Say>Welcome to the clinic.</Say><Hangup/>");
      response.writeHead(404).end();
    });
    try {
      const result = await runOn([await scriptOn("twilio", [{ expect: { says: "Welcome to the clinic.", ends: "handler_hangup" } }])], server.url);
      assert.deepEqual(findingsOf(result), []);
      const [first, moved] = server.requests;
      assert.deepEqual([first!.method, moved!.method, moved!.url, moved!.body.length], ["POST", "GET", "/twilio/welcome", 0]);
      assert.equal(moved!.headers["i-twilio-idempotency-token"], first!.headers["i-twilio-idempotency-token"]);
    } finally {
      await server.close();
    }
  });

  it("twilio: 303 becomes a GET too, a 307 after it repeats that GET, and 308 fails naming error 11216", async () => {
    const statuses: number[] = [];
    const server = await stubHandler("/twilio/voice", (request, response) => {
      if (request.url === "/twilio/voice") return expressRedirect(response, "/twilio/step2", 303);
      if (request.url === "/twilio/step2") return expressRedirect(response, "/twilio/step3", 307);
      if (request.url === "/twilio/step3") {
        statuses.push(request.body.length);
        return sendXml(response, "<Say>Made it.</Say>");
      }
      response.writeHead(404).end();
    });
    const refusing = await stubHandler("/twilio/voice", (_request, response) => expressRedirect(response, "/twilio/elsewhere", 308));
    try {
      const result = await runOn([await scriptOn("twilio", [{ expect: { says: "Made it." } }])], server.url);
      assert.deepEqual(findingsOf(result), []);
      assert.deepEqual(
        server.requests.map((request) => request.method),
        ["POST", "GET", "GET"],
      );
      assert.deepEqual(statuses, [0]);
      const refused = await runOn([await scriptOn("twilio", [{}])], refusing.url);
      assert.ok(
        findingsOf(refused).some((line) => line.includes("expected status 2xx, got 308 — Twilio error 11216: it follows only 301, 302, 303 and 307")),
        findingsOf(refused).join("\n"),
      );
    } finally {
      await Promise.all([server.close(), refusing.close()]);
    }
  });

  it("vonage documents no redirects: a 302 on the answer URL is a refusal", async () => {
    const server = await stubHandler("/webhooks/answer", (request, response) => {
      if (request.url.startsWith("/webhooks/answer")) return expressRedirect(response, "/webhooks/ncco");
      if (request.url.startsWith("/webhooks/ncco")) return sendJson(response, [{ action: "talk", text: "Hello" }]);
      sendJson(response, {});
    });
    try {
      const result = await runOn([await scriptOn("vonage", [{}])], server.url);
      assert.ok(
        findingsOf(result).some((line) => line.startsWith("answer: expected status 2xx, got 302")),
        findingsOf(result).join("\n"),
      );
      assert.ok(!server.requests.some((request) => request.url.startsWith("/webhooks/ncco")));
    } finally {
      await server.close();
    }
  });
});
