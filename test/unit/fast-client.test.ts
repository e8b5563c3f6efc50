/**
 * The load-mode transport (src/fast-client) against real servers on 127.0.0.1: reply framings,
 * keep-alive and `Connection: close`, a server that hangs up mid-reply, interim 1xx replies, timeouts
 * (driven by a fake scheduler where the test needs control, never asserted on the wall clock), no
 * head-of-line blocking without pipelining, pipelining, and TLS against a self-signed server.
 */
import assert from "node:assert/strict";
import type { ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { withoutTrailingWhitespace } from "../../src/lib/field-value.js";
import { generate } from "selfsigned";
import { createDispatcher, deliver, type DeliveryRequest, type DeliveryResult } from "../../src/transport/undici.js";
import { DeadlineQueue, type Scheduler } from "../../src/transport/fast-client/deadlines.js";
import { createFastClient, type FastClient } from "../../src/transport/fast-client/index.js";
import { startListener, startServer, refusingServer } from "../helpers.js";

const dispatcher = createDispatcher(1);
after(() => dispatcher.close());
const body = Buffer.from('{"event_type":"call.started"}');

function request(url: string, overrides: Partial<DeliveryRequest> = {}): DeliveryRequest {
  return {
    url: new URL(url),
    method: "POST",
    headers: { "content-type": "application/json", "webhook-id": "evt_1" },
    body,
    timeoutMs: 5000,
    dispatcher,
    ...overrides,
  };
}

async function withClient<T>(options: Parameters<typeof createFastClient>[0], work: (client: FastClient) => Promise<T>): Promise<T> {
  const client = createFastClient(options);
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

function expectReply(result: DeliveryResult): Extract<DeliveryResult, { ok: true }> {
  assert.ok(result.ok, result.ok ? "" : `${result.kind}: ${result.message}`);
  return result;
}

/** A raw TCP server that answers each connection with `respond` (bytes as the test wants them). */
async function rawServer(respond: (socket: Socket, request: string) => void): Promise<{ url: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    let received = "";
    socket.on("data", (chunk: Buffer) => {
      received += chunk.toString("latin1");
      const end = received.indexOf("\r\n\r\n");
      const length = Number(/content-length: (\d+)/i.exec(received)?.[1] ?? 0);
      if (end !== -1 && received.length >= end + 4 + length) {
        respond(socket, received);
        received = "";
      }
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hook`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

describe("fast client: replies", () => {
  it("reads content-length and chunked replies, headers lower-case as undici gives them", async () => {
    const server = await startServer((received, response) => {
      if (received.url.endsWith("chunked")) {
        response.writeHead(200, { "Content-Type": "application/json", "X-Twice": ["a", "b"] });
        response.write('{"instructions":');
        response.end('[{"type":"listen"}]}');
      } else {
        response.writeHead(201, { "content-type": "application/json", "content-length": 2 }).end("{}");
      }
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        const sized = expectReply(await client.deliver(request(server.url)));
        assert.equal(sized.status, 201);
        assert.equal(sized.body.toString(), "{}");
        const chunked = expectReply(await client.deliver(request(`${server.url}/chunked`)));
        assert.equal(chunked.headers["transfer-encoding"], "chunked");
        assert.equal(chunked.headers["x-twice"], "a, b");
        assert.deepEqual(JSON.parse(chunked.body.toString()), { instructions: [{ type: "listen" }] });
        assert.ok(chunked.latencyMs >= 0);
      });
      // What the handler received is the request as sent: body, headers, path.
      const [first] = server.requests;
      assert.equal(first!.method, "POST");
      assert.equal(first!.url, "/webhooks/voice");
      assert.equal(first!.headers["webhook-id"], "evt_1");
      assert.equal(first!.headers["content-length"], String(body.length));
      assert.deepEqual(first!.body, body);
    } finally {
      await server.close();
    }
  });

  it("gives the headers object undici delivery gives, reply after reply, whether the header section repeats or changes", async () => {
    // Replies 1-3 repeat one header section, 4 changes a value, 5 repeats 4's; each has every kind of header,
    // one value with trailing whitespace (not part of the value: single runs and load mode must agree).
    let count = 0;
    const server = await rawServer((socket) => {
      count++;
      const variant = count <= 3 ? "a" : "b";
      socket.write(
        `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Variant: ${variant} \t\r\nSet-Cookie: one=1\r\nSet-Cookie: two=2\r\n` +
          `Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n{}`,
      );
    });
    try {
      const fast: Record<string, string>[] = [];
      await withClient({ connections: 1 }, async (client) => {
        for (let i = 0; i < 5; i++) fast.push(expectReply(await client.deliver(request(server.url))).headers);
      });
      count = 0;
      const viaUndici: Record<string, string>[] = [];
      for (let i = 0; i < 5; i++) viaUndici.push(expectReply(await deliver(request(server.url))).headers);
      assert.deepEqual(fast, viaUndici);
      assert.equal(fast[3]!["x-variant"], "b");
      assert.equal(new Set(fast).size, 5, "each reply has its own object");
    } finally {
      await server.close();
    }
  });

  it("keeps a connection alive across requests, and opens a new one after Connection: close", async () => {
    const ports: number[] = [];
    const server = await startListener((raw, response) => {
      ports.push(raw.socket.remotePort!);
      raw.resume();
      raw.on("end", () => response.writeHead(204, raw.url === "/close" ? { connection: "close" } : {}).end());
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        const origin = `http://127.0.0.1:${server.port}`;
        for (const path of ["/a", "/b", "/close", "/c"]) assert.equal(expectReply(await client.deliver(request(`${origin}${path}`))).status, 204);
      });
      assert.equal(ports[0], ports[1], "reused while the server keeps it alive");
      assert.equal(ports[1], ports[2]);
      assert.notEqual(ports[2], ports[3], "a fresh connection after Connection: close");
    } finally {
      await server.close();
    }
  });

  it("completes a reply delimited by the end of the connection, and fails one cut short", async () => {
    const server = await rawServer((socket, received) => {
      if (received.startsWith("POST /eof")) socket.end("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nall of it");
      else socket.end("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nonly ten b");
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        const whole = expectReply(await client.deliver(request(server.url.replace("/hook", "/eof"))));
        assert.equal(whole.body.toString(), "all of it");
        const cut = await client.deliver(request(server.url));
        assert.ok(!cut.ok);
        assert.equal(cut.kind, "network");
        assert.match(cut.message, /^connection reset by the handler/);
        // The same failure kind as on the undici path.
        const viaUndici = await deliver(request(server.url));
        assert.ok(!viaUndici.ok);
        assert.equal(viaUndici.kind, "network");
        assert.match(viaUndici.message, /^connection reset by the handler/);
      });
    } finally {
      await server.close();
    }
  });

  it("skips interim 1xx replies and returns the final one", async () => {
    const server = await rawServer((socket) => {
      socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\n");
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}");
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        const reply = expectReply(await client.deliver(request(server.url)));
        assert.equal(reply.status, 200);
        assert.equal(reply.body.toString(), "{}");
        // The connection is still in step: a second request gets its own reply.
        assert.equal(expectReply(await client.deliver(request(server.url))).status, 200);
      });
    } finally {
      await server.close();
    }
  });

  it("reports a refused connection as unreachable and bad header values before sending", async () => {
    const server = await refusingServer();
    await withClient({ connections: 1 }, async (client) => {
      const refused = await client.deliver(request(server.url));
      assert.ok(!refused.ok);
      assert.equal(refused.kind, "unreachable");
      assert.match(refused.message, /connection refused \(ECONNREFUSED\) at 127\.0\.0\.1:\d+/);
      const injected = await client.deliver(request(server.url, { headers: { "x-evil": "a\r\nx-injected: 1" } }));
      assert.ok(!injected.ok);
      assert.equal(injected.kind, "network");
      assert.match(injected.message, /invalid value of header x-evil/);
    });
  });
});

describe("fast client: header lines reused from the last request", () => {
  it("sends each request's own values, and refuses a bad value after a good one of the same name", async () => {
    const server = await startServer((_request, response) => void response.writeHead(204).end());
    try {
      await withClient({ connections: 1 }, async (client) => {
        for (const value of ["one", "one", "two", "one"]) assert.ok((await client.deliver(request(server.url, { headers: { "x-repeat": value } }))).ok);
        const injected = await client.deliver(request(server.url, { headers: { "x-repeat": "one\r\nx-injected: 1" } }));
        assert.ok(!injected.ok);
        assert.match(injected.message, /invalid value of header x-repeat/);
        assert.ok((await client.deliver(request(server.url, { headers: { "x-repeat": "one" } }))).ok);
      });
      assert.deepEqual(
        server.requests.map((received) => received.headers["x-repeat"]),
        ["one", "one", "two", "one", "one"],
      );
      assert.ok(server.requests.every((received) => received.headers["x-injected"] === undefined));
    } finally {
      await server.close();
    }
  });
});

describe("fast client: the server's keep-alive limit", () => {
  it("does not reuse a connection the server announced it would close by now (Keep-Alive: timeout)", async () => {
    // timeout=1 leaves no idle time after the 1 s safety margin: the next request needs a new connection.
    const hints = ["timeout=5", "timeout=1", "timeout=5", "timeout=5", "timeout=1", "timeout=1"];
    const sockets: unknown[] = [];
    const server = await startServer((_request, response, raw) => {
      sockets.push(raw.socket);
      response.writeHead(204, { "keep-alive": hints[sockets.length - 1]! }).end();
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        for (let i = 0; i < hints.length; i++) assert.ok((await client.deliver(request(server.url))).ok);
      });
      const connection = sockets.map((socket) => sockets.indexOf(socket));
      assert.deepEqual(connection, [0, 0, 2, 2, 2, 5]);
    } finally {
      await server.close();
    }
  });
});

describe("fast client: timeouts and scheduling", () => {
  it("fires deadlines in order from one timer, skipping cancelled ones", () => {
    let now = 0;
    const timers: { at: number; callback: () => void; cleared: boolean }[] = [];
    const scheduler: Scheduler = {
      now: () => now,
      setTimer: (delay, callback) => {
        const timer = { at: now + delay, callback, cleared: false };
        timers.push(timer);
        return timer;
      },
      clearTimer: (timer) => ((timer as { cleared: boolean }).cleared = true),
    };
    const advance = (to: number) => {
      now = to;
      for (const timer of timers.filter((entry) => !entry.cleared && entry.at <= now)) {
        timer.cleared = true;
        timer.callback();
      }
    };
    const queue = new DeadlineQueue(scheduler);
    const fired: string[] = [];
    queue.add(100, () => fired.push("a"));
    const b = queue.add(100, () => fired.push("b"));
    queue.add(150, () => fired.push("c"));
    queue.add(50, () => fired.push("early"));
    queue.cancel(b);
    advance(60);
    assert.deepEqual(fired, ["early"]);
    advance(100);
    assert.deepEqual(fired, ["early", "a"]);
    advance(200);
    assert.deepEqual(fired, ["early", "a", "c"]);
    assert.equal(queue.size, 0);
    assert.equal(timers.filter((timer) => !timer.cleared).length, 0, "no timer left armed");
  });

  it("times a silent handler out, and a fresh connection serves the next request", async () => {
    const server = await startServer((received, response) => {
      if (received.url.endsWith("silent")) return; // never answers
      response.writeHead(204).end();
    });
    try {
      await withClient({ connections: 1 }, async (client) => {
        const silent = await client.deliver(request(`${server.url}/silent`, { timeoutMs: 20 }));
        assert.ok(!silent.ok);
        assert.equal(silent.kind, "timeout");
        assert.equal(silent.message, "no reply within 20 ms");
        assert.equal(expectReply(await client.deliver(request(server.url))).status, 204);
      });
    } finally {
      await server.close();
    }
  });

  it("does not hold a request behind a slow one (no pipelining: one request per connection)", async () => {
    let releaseSlow!: () => void;
    const slowMayAnswer = new Promise<void>((resolve) => (releaseSlow = resolve));
    const server = await startServer(async (received, response) => {
      if (received.url.endsWith("slow")) await slowMayAnswer;
      response.writeHead(204).end();
    });
    try {
      await withClient({ connections: 4 }, async (client) => {
        const slow = client.deliver(request(`${server.url}/slow`));
        // Answered while the slow request is still open: if it queued behind it, this would never settle.
        assert.equal(expectReply(await client.deliver(request(`${server.url}/fast`))).status, 204);
        releaseSlow();
        assert.equal(expectReply(await slow).status, 204);
      });
    } finally {
      await server.close();
    }
  });

  it("times a reply from when the request leaves for the handler, not from when it was queued", async () => {
    const server = await startServer((_received, response) => void response.writeHead(204).end());
    try {
      await withClient({ connections: 1 }, async (client) => {
        let clock = 1000;
        const pending = client.deliver(request(server.url, { now: () => clock }));
        // Still in vwh's write queue (it is flushed once this turn of the event loop ends): a busy
        // sender's delay, which must not count as the handler's latency.
        clock += 250;
        assert.equal(expectReply(await pending).latencyMs, 0);
      });
    } finally {
      await server.close();
    }
  });

  it("times every reply of a burst as it is read, before the engine works on any of them", async () => {
    const held: ServerResponse[] = [];
    const server = await startServer((_received, response) => {
      held.push(response);
      // Both replies leave together, so they are read in one turn of the event loop.
      if (held.length === 2) for (const reply of held) reply.writeHead(204).end();
    });
    try {
      await withClient({ connections: 2 }, async (client) => {
        let clock = 0;
        // The engine's work on a reply (signing and checking the next event …) takes time: 100 ms here.
        const work = (result: DeliveryResult) => ((clock += 100), result);
        const replies = await Promise.all([
          client.deliver(request(server.url, { now: () => clock })).then(work),
          client.deliver(request(server.url, { now: () => clock })).then(work),
        ]);
        assert.deepEqual(
          replies.map((reply) => expectReply(reply).latencyMs),
          [0, 0],
        );
      });
    } finally {
      await server.close();
    }
  });

  it("pipelines up to n requests on one connection and matches replies in order", async () => {
    const sockets = new Set<number>();
    const server = await startListener((raw, response) => {
      sockets.add(raw.socket.remotePort!);
      raw.resume();
      raw.on("end", () => response.writeHead(200, { "content-type": "text/plain" }).end(raw.url));
    });
    try {
      await withClient({ connections: 1, pipelining: 4 }, async (client) => {
        const replies = await Promise.all(["/1", "/2", "/3", "/4", "/5"].map((path) => client.deliver(request(`http://127.0.0.1:${server.port}${path}`))));
        assert.deepEqual(
          replies.map((reply) => expectReply(reply).body.toString()),
          ["/1", "/2", "/3", "/4", "/5"],
        );
      });
      assert.equal(sockets.size, 1);
    } finally {
      await server.close();
    }
  });
});

describe("fast client: TLS", () => {
  it("talks HTTPS to a local server with a self-signed certificate it is told to trust", async () => {
    const pems = await generate([{ name: "commonName", value: "localhost" }], {
      keyType: "ec",
      algorithm: "sha256",
      extensions: [
        {
          name: "subjectAltName",
          altNames: [
            { type: 2, value: "localhost" },
            { type: 7, ip: "127.0.0.1" },
          ],
        },
      ],
    });
    const server = createHttpsServer({ key: pems.private, cert: pems.cert }, (raw, response) => {
      raw.resume();
      raw.on("end", () => response.writeHead(200, { "content-type": "application/json" }).end('{"secure":true}'));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      await withClient({ connections: 1, tls: { ca: pems.cert } }, async (client) => {
        for (const host of ["127.0.0.1", "localhost"]) {
          const reply = expectReply(await client.deliver(request(`https://${host}:${port}/hook`)));
          assert.equal(reply.body.toString(), '{"secure":true}');
        }
      });
      // Without the CA the certificate is refused, as by undici.
      await withClient({ connections: 1 }, async (client) => {
        const refused = await client.deliver(request(`https://127.0.0.1:${port}/hook`));
        assert.ok(!refused.ok);
        assert.equal(refused.kind, "network");
        assert.match(refused.message, /self.signed/i);
        const viaUndici = await deliver(request(`https://127.0.0.1:${port}/hook`));
        assert.ok(!viaUndici.ok && viaUndici.kind === "network");
      });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("a header value's trailing whitespace", () => {
  it("is dropped, spaces and tabs, and nothing else: inner whitespace, leading text and a value of whitespace only", () => {
    assert.equal(withoutTrailingWhitespace("a b \t "), "a b");
    assert.equal(withoutTrailingWhitespace("a\t"), "a");
    assert.equal(withoutTrailingWhitespace("a"), "a");
    assert.equal(withoutTrailingWhitespace(" \t "), "");
    assert.equal(withoutTrailingWhitespace(""), "");
    assert.equal(withoutTrailingWhitespace("a\r\n"), "a\r\n", "only OWS: CR and LF never reach a value, and are not trimmed as if they had");
  });

  it("is found from the end, in one pass, in a hostile value: long runs of spaces that do not end it", () => {
    // A regex anchored at the end retries from each of these spaces (quadratic); the loop reads the tail only.
    const hostile = `${" ".repeat(200_000)}x${" ".repeat(3)}`;
    assert.equal(withoutTrailingWhitespace(hostile), `${" ".repeat(200_000)}x`);
  });
});
