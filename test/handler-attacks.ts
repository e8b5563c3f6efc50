/**
 * The attack set every example handler vwh ships must survive (issue 12): malformed request lines,
 * unauthenticated and forged requests, authentic bodies of the wrong shape, huge and deeply nested
 * bodies, slow bodies and slow headers, resets mid-body, replays. The handler runs as users run it
 * (`node examples/<file>.js` with its environment), and after every attack it must still be up and
 * answer a valid request.
 *
 * Reusable for every platform's example: describe how to start it and how to sign for it.
 *
 *   await attackHandler({
 *     file: "examples/twilio-handler.js",
 *     env: (port) => ({ PORT: String(port), TWILIO_AUTH_TOKEN: token, REQUEST_TIMEOUT_MS: "1000" }),
 *     path: "/voice",
 *     sign: (body, url) => ({ "x-twilio-signature": twilioSignature(token, url, new URLSearchParams(body.toString())) }),
 *     validBody: () => Buffer.from("CallSid=CA1&From=%2B15550100001"),
 *     hostileBodies: [Buffer.from("Digits[]=1&SpeechResult[x]=2")],
 *     contentType: "application/x-www-form-urlencoded",
 *   });
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { request as httpRequest } from "node:http";
import { connect } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { repoRoot, unusedPort } from "./helpers.js";
import { isAbsolute, join } from "node:path";

export interface HandlerUnderTest {
  /** The handler file, absolute or relative to the repository (e.g. `examples/voice-handler.js`). */
  file: string;
  /** Its environment, given the port it must listen on: PORT, secrets, a short request timeout. */
  env: (port: number) => Record<string, string>;
  /** The webhook path it serves. */
  path: string;
  /** The headers the platform would send with this body to this URL (signature, timestamp, id). */
  sign: (body: Buffer, url: string) => Record<string, string>;
  /** A fresh authentic request the handler must answer with 2xx (a new event each call). */
  validBody: () => Buffer;
  /** Authentic (signed) bodies of the wrong shape; each must get an answer below 500. Default: vwh envelopes. */
  hostileBodies?: Buffer[];
  /** Default: application/json. */
  contentType?: string;
  /**
   * How long a slow request (a trickling body, unfinished headers) may stay open. Start the handler
   * with a request timeout well below this (default 8000 ms), or the slow attacks fail.
   */
  slowRequestLimitMs?: number;
  /** How long the handler may take to start listening (default 10 s). */
  startTimeoutMs?: number;
  /**
   * Why this handler is not a signed, idempotent webhook (a custom LLM that the platform calls as an API, with
   * nothing to authenticate and a fresh completion each time): the unsigned, forged and replayed attacks are skipped.
   */
  notAWebhook?: string;
}

export interface RunningHandler {
  port: number;
  url: string;
  /** Set once the process has exited. */
  exit(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
  output(): string;
  stop(): Promise<void>;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Starts a handler file as its users would, on a free port, and waits until it accepts connections. */
export async function startHandler(handler: Pick<HandlerUnderTest, "file" | "env" | "path" | "startTimeoutMs">): Promise<RunningHandler> {
  const port = await unusedPort();
  const file = isAbsolute(handler.file) ? handler.file : join(repoRoot, handler.file);
  const child: ChildProcess = spawn(process.execPath, [file], {
    env: { PATH: process.env.PATH ?? "", ...handler.env(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
  const closed = new Promise<void>((resolve) =>
    child.on("exit", (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const deadline = Date.now() + (handler.startTimeoutMs ?? 10_000);
  while (!(await accepts(port))) {
    if (exited) throw new Error(`${handler.file} exited (${JSON.stringify(exited)}) before listening:\n${output}`);
    if (Date.now() > deadline) {
      child.kill();
      throw new Error(`${handler.file} did not listen on port ${port}:\n${output}`);
    }
    await sleep(25);
  }
  return {
    port,
    url: `http://127.0.0.1:${port}${handler.path}`,
    exit: () => exited,
    output: () => output,
    async stop() {
      if (!exited) child.kill("SIGTERM");
      await Promise.race([closed, sleep(5000).then(() => child.kill("SIGKILL"))]);
    },
  };
}

interface Reply {
  status: number;
  body: string;
}

/** One HTTP request; resolves with the reply (or rejects on a connection error). */
function send(url: string, options: { method?: string; headers?: Record<string, string>; body?: Buffer }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? "POST", headers: { connection: "close", ...options.headers }, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8").on("data", (chunk: string) => (body += chunk));
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    req.on("error", reject);
    req.setTimeout(10_000, () => req.destroy(new Error("no reply within 10 s")));
    req.end(options.body);
  });
}

/**
 * Writes raw bytes on a fresh connection; resolves with what came back once the server closes the
 * connection, or `{ closed: false }` when it is still open after `limitMs`.
 */
function rawExchange(
  port: number,
  chunks: readonly (string | Buffer)[],
  limitMs: number,
  options: { resetAfterWrite?: boolean } = {},
): Promise<{ closed: boolean; received: string }> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    let received = "";
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, received });
    };
    const timer = setTimeout(() => finish(false), limitMs);
    socket.setEncoding("latin1").on("data", (chunk: string) => (received += chunk));
    socket.on("close", () => finish(true));
    socket.on("error", () => finish(true));
    socket.on("connect", () => {
      for (const chunk of chunks) socket.write(chunk);
      if (options.resetAfterWrite) socket.resetAndDestroy();
    });
  });
}

/** Authentic envelopes whose fields have the wrong type or shape: what killed the reference handler. */
export function hostileEnvelopes(): Buffer[] {
  const envelope = (fields: Record<string, unknown>) =>
    Buffer.from(
      JSON.stringify({
        event_id: `evt_hostile_${Math.random().toString(36).slice(2)}`,
        call_id: "call_h",
        sequence: 1,
        timestamp: new Date().toISOString(),
        ...fields,
      }),
    );
  const noPrimitive = { toString: 1, valueOf: 2 };
  return [
    envelope({ event_type: "dtmf.received", payload: { digits: noPrimitive } }),
    envelope({ event_type: "speech.transcribed", payload: { text: noPrimitive, is_final: true } }),
    envelope({ event_type: "speech.transcribed", payload: { text: ["reschedule"], is_final: "yes" } }),
    envelope({ event_type: "intent.matched", payload: { intent: noPrimitive } }),
    envelope({ event_type: "call.started", payload: { to: noPrimitive, from: [] } }),
    envelope({ event_type: "call.started", payload: "not an object" }),
    envelope({ event_type: "call.started", payload: null }),
    envelope({ event_type: "dtmf.received", payload: [1, 2, 3] }),
    envelope({ event_type: ["call.started"], payload: {} }),
    envelope({ event_type: "call.started", event_id: { id: 1 } }),
    Buffer.from(`{"event_type":"call.started","event_id":"evt_deep","payload":${"[".repeat(10_000)}${"]".repeat(10_000)}}`),
    Buffer.from('{"event_type":"call.started","event_id":"evt_proto","__proto__":{"polluted":true},"payload":{"constructor":{"prototype":{"x":1}}}}'),
    Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]), // invalid UTF-8
    Buffer.from("not json at all"),
    Buffer.from("[]"),
    Buffer.from("null"),
    Buffer.alloc(0),
  ];
}

export interface AttackOutcome {
  attack: string;
  detail: string;
}

/**
 * Starts the handler, throws the attack set at it, and stops it. Fails (assert) naming the first
 * attack that crashed it, left it unable to answer, or kept a slow request open past the limit.
 * Returns what each attack got, for the test's own checks.
 */
export async function attackHandler(handler: HandlerUnderTest): Promise<AttackOutcome[]> {
  const running = await startHandler(handler);
  const contentType = handler.contentType ?? "application/json";
  const limitMs = handler.slowRequestLimitMs ?? 8000;
  const outcomes: AttackOutcome[] = [];
  const signed = (body: Buffer) => ({ "content-type": contentType, ...handler.sign(body, running.url) });
  const stillUp = async (attack: string) => {
    assert.equal(running.exit(), undefined, `${handler.file} died after the attack "${attack}":\n${running.output()}`);
    const body = handler.validBody();
    const reply = await send(running.url, { headers: signed(body), body }).catch((error: Error) =>
      assert.fail(`${handler.file} stopped answering after "${attack}": ${error.message}`),
    );
    assert.ok(reply.status >= 200 && reply.status < 300, `${handler.file} refused a valid request after "${attack}": ${reply.status} ${reply.body}`);
  };
  const attack = async (name: string, run: () => Promise<string>) => {
    const detail = await run();
    outcomes.push({ attack: name, detail });
    await stillUp(name);
  };
  const { port } = running;
  const host = `127.0.0.1:${port}`;
  try {
    await stillUp("nothing (the handler must answer a valid request to begin with)");
    // Slow requests run alongside the rest: each must be cut off within the limit.
    const slow = Promise.all([
      rawExchange(port, [`POST ${handler.path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: ${contentType}\r\nContent-Length: 1000\r\n\r\n{`], limitMs + 2000),
      rawExchange(port, [`POST ${handler.path} HTTP/1.1\r\nHost: ${host}\r\nX-Slow: `], limitMs + 2000),
    ]);

    for (const target of ["http://[", "http://[::1", "//", "*", "/%", `${handler.path}?%zz=%`, "http://evil.example/../../etc/passwd"]) {
      await attack(
        `request target ${target}`,
        async () =>
          (await rawExchange(port, [`POST ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`], limitMs)).received.split(
            "\r\n",
          )[0] ?? "",
      );
    }
    await attack("garbage request line", async () => (await rawExchange(port, ["\u0000\u0001 GARBAGE\r\n\r\n"], limitMs)).received.split("\r\n")[0] ?? "");
    await attack(
      "header overflow",
      async () =>
        (
          await rawExchange(port, [`POST ${handler.path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nX-Big: ${"a".repeat(100_000)}\r\n\r\n`], limitMs)
        ).received.split("\r\n")[0] ?? "",
    );
    for (const method of ["GET", "PUT", "DELETE", "OPTIONS", "HEAD"]) {
      await attack(`${method} on the webhook path`, async () => String((await send(running.url, { method })).status));
    }
    if (!handler.notAWebhook)
      await attack("unsigned request", async () => {
        const body = handler.validBody();
        const reply = await send(running.url, { headers: { "content-type": contentType }, body });
        assert.ok(reply.status >= 400 && reply.status < 500, `an unsigned request got ${reply.status}: it must be refused`);
        return String(reply.status);
      });
    if (!handler.notAWebhook)
      await attack("forged signature", async () => {
        const body = handler.validBody();
        const forged = Object.fromEntries(
          Object.entries(signed(body)).map(([name, value]) => [
            name,
            name === "content-type" ? value : value.replace(/[A-Za-z0-9]/g, (c) => (c === "A" ? "B" : "A")),
          ]),
        );
        const reply = await send(running.url, { headers: forged, body });
        assert.ok(reply.status >= 400 && reply.status < 500, `a forged request got ${reply.status}: it must be refused`);
        return String(reply.status);
      });
    await attack("body over the limit (unsigned, 12 MB)", async () => {
      const reply = await send(running.url, { headers: { "content-type": contentType }, body: Buffer.alloc(12 * 1024 * 1024, 0x61) }).catch((error: Error) => ({
        status: 0,
        body: error.message,
      }));
      return String(reply.status);
    });
    await attack("reset mid-body", async () => {
      const body = handler.validBody();
      const headers = Object.entries(signed(body))
        .map(([name, value]) => `${name}: ${value}\r\n`)
        .join("");
      await rawExchange(
        port,
        [`POST ${handler.path} HTTP/1.1\r\nHost: ${host}\r\n${headers}Content-Length: ${body.length}\r\n\r\n`, body.subarray(0, body.length >> 1)],
        200,
        { resetAfterWrite: true },
      );
      return "reset";
    });
    for (const [index, body] of (handler.hostileBodies ?? hostileEnvelopes()).entries()) {
      await attack(`authentic hostile body #${index}: ${body.subarray(0, 60).toString("utf8")}`, async () => {
        const reply = await send(running.url, { headers: signed(body), body });
        assert.ok(reply.status < 500, `authentic hostile body #${index} got ${reply.status} ${reply.body}`);
        return String(reply.status);
      });
    }
    if (!handler.notAWebhook)
      await attack("replayed request", async () => {
        const body = handler.validBody();
        const headers = signed(body);
        const first = await send(running.url, { headers, body });
        const replay = await send(running.url, { headers, body });
        assert.equal(replay.status, first.status, "a replay must get the same answer as the original");
        assert.equal(replay.body, first.body, "a replay must get the same answer as the original");
        return `${first.status}, replay ${replay.status}`;
      });

    const [slowBody, slowHeaders] = await slow;
    assert.ok(slowBody.closed, `${handler.file} kept a trickling body open longer than ${limitMs + 2000} ms (no request timeout)`);
    assert.ok(slowHeaders.closed, `${handler.file} kept unfinished headers open longer than ${limitMs + 2000} ms (no headers timeout)`);
    outcomes.push(
      { attack: "slow body", detail: slowBody.received.split("\r\n")[0] || "closed" },
      { attack: "slow headers", detail: slowHeaders.received.split("\r\n")[0] || "closed" },
    );
    await stillUp("slow requests");
    return outcomes;
  } finally {
    await running.stop();
  }
}
