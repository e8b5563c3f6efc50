/** The local Telnyx Call Control API refuses DNS-rebinding requests: a foreign Host, any Origin (issue 26, defect 7). */
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { describe, it } from "node:test";
import { CallControlApi, type CommandRequest } from "../../src/platforms/telnyx/api-server.js";

function post(port: number, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/v2/calls/v3%3Aabc/actions/speak",
        headers: { "content-type": "application/json", authorization: "Bearer KEY", ...headers },
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    outgoing.on("error", reject);
    outgoing.end(JSON.stringify({ payload: "hello" }));
  });
}

describe("the local Telnyx Call Control API checks Host and Origin", () => {
  it("refuses a rebinding page's Host or any Origin, and still answers the handler's client", async () => {
    const api = await CallControlApi.open(0);
    const port = Number(new URL(api.baseUrl).port);
    const received: string[] = [];
    api.register("v3:abc", {
      receive: (command: CommandRequest) => {
        received.push(command.command);
        return { status: 200, body: { data: { result: "ok" } } };
      },
    });
    try {
      const rebound = await post(port, { host: `attacker.example:${port}` });
      assert.equal(rebound.status, 403);
      assert.match(rebound.body, /answers only at 127\.0\.0\.1/);
      const fromPage = await post(port, { host: `127.0.0.1:${port}`, origin: "http://attacker.example" });
      assert.equal(fromPage.status, 403);
      assert.match(fromPage.body, /Origin/);
      assert.deepEqual(received, [], "neither reached the call");
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`]) assert.equal((await post(port, { host })).status, 200, host);
      assert.deepEqual(received, ["speak", "speak"]);
    } finally {
      await api.close();
    }
  });
});
