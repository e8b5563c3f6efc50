/** vwh tunnel: the --local proxy end to end, the ngrok boundary with an injected forward, and the real library offline. */
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { request } from "undici";
import { tunnelCommand } from "../../src/commands/tunnel.js";
import { loadFlow } from "../../src/files/call-flow.js";
import { getScheme } from "../../src/signing/index.js";
import { tokenFromNgrokConfig, type ForwardConfig } from "../../src/tunnel/ngrok.js";
import { readJournal, Recorder } from "../../src/tunnel/recorder.js";
import {
  json,
  newSecret,
  runInProcess,
  runVwh,
  spawnVwh,
  tunnelInProcess,
  startServer,
  unusedPort,
  withTempDir,
  refusingServer,
  type RunningVwh,
} from "../helpers.js";

const secret = newSecret();

interface Listening {
  proxy_url: string;
  webhook_url: string;
  public_url: string | null;
  target_answers: boolean;
  inspector_url: string | null;
}

/**
 * A spawned `vwh tunnel --local --json`; `inProcess`: the same command in this process (stop() ends it as Ctrl-C
 * does, and its code is the one the process exits with), where no real signal needs to reach a process.
 */
async function startTunnel(port: number, extra: string[] = [], options: { inProcess?: boolean } = {}): Promise<{ vwh: RunningVwh; ready: Listening }> {
  const args = [String(port), "--local", "--json", ...extra];
  const env = { VWH_SECRET: secret };
  const vwh = options.inProcess ? await tunnelInProcess(args, { env }) : spawnVwh(["tunnel", ...args], { env });
  const ready = JSON.parse(await vwh.nextLine()) as Listening;
  return { vwh, ready };
}

function signed(body: string) {
  return getScheme("standard")
    .create([{ value: secret, source: "" }], { purpose: "sign" })
    .sign({
      id: "evt_t1",
      timestamp: Math.floor(Date.now() / 1000),
      body: Buffer.from(body),
      method: "POST",
      url: "",
      contentType: "application/json",
    }).headers;
}

describe("vwh tunnel --local (the inspecting proxy)", () => {
  it("passes bodies byte for byte both ways, logs each request as one JSON line, and flags forged signatures", async () => {
    const upstream = await startServer((received, response) => {
      // Echo the exact bytes back, with odd headers, so the test sees both directions.
      response.writeHead(201, { "content-type": received.headers["content-type"] ?? "application/octet-stream", "x-handler": "yes" }).end(received.body);
    });
    // In process: the process's own exit on Ctrl-C is the --record test's.
    const { vwh, ready } = await startTunnel(upstream.port, ["--path", "/webhooks/voice"], { inProcess: true });
    try {
      assert.match(ready.webhook_url, /^http:\/\/127\.0\.0\.1:\d+\/webhooks\/voice$/);
      assert.equal(ready.public_url, null);
      assert.equal(ready.target_answers, true);
      assert.match(ready.inspector_url ?? "", /^http:\/\/127\.0\.0\.1:\d+\/$/);
      const bodies = [
        { type: "application/json", body: '{ "event_type": "call.started",\t"call_id": "call_ü", "sequence": 1, "text": "héllo ☎ \\u00e9" }\n\n' },
        { type: "application/x-www-form-urlencoded", body: "CallSid=CA123&From=%2B15550100001&SpeechResult=I+want+to+reschedule" },
        { type: "application/octet-stream", body: Buffer.from([0, 255, 1, 254, 10, 13]) },
      ];
      for (const [index, { type, body }] of bodies.entries()) {
        const bytes = Buffer.from(body);
        const headers = index === 0 ? { ...signed(bytes.toString()), "content-type": type } : { "content-type": type };
        const response = await request(`${ready.proxy_url}/webhooks/voice?x=1&y=%20`, { method: "POST", headers, body: bytes });
        assert.equal(response.statusCode, 201);
        assert.equal(response.headers["x-handler"], "yes");
        assert.deepEqual(Buffer.from(await response.body.arrayBuffer()), bytes);
        assert.deepEqual(upstream.requests[index]!.body, bytes);
        assert.equal(upstream.requests[index]!.url, "/webhooks/voice?x=1&y=%20");
        const line = JSON.parse(await vwh.nextLine()) as Record<string, unknown>;
        assert.equal(line.event, "request");
        assert.equal(line.status, 201);
        assert.equal(line.path, "/webhooks/voice?x=1&y=%20");
        assert.deepEqual(line.reply, {
          status: 201,
          content_type: type,
          bytes: bytes.length,
          actions: null,
          excerpt:
            index === 2
              ? `<${bytes.length} bytes of binary>`
              : bytes.toString().replace(/\s+/g, " ").trim().slice(0, 79) + (bytes.toString().length > 80 ? "…" : ""),
        });
        if (index === 0) {
          assert.deepEqual([line.event_type, line.call_id, line.sequence], ["call.started", "call_ü", 1]);
          assert.deepEqual(line.signature, { valid: true, reason: null });
        } else {
          assert.deepEqual(line.signature, { valid: false, reason: "missing header webhook-id" });
        }
        // Without --platform the tunnel asks every platform: a form post with a CallSid and a SpeechResult is Twilio's gather.
        if (index === 1) assert.deepEqual([line.event_type, line.call_id], ["gather", "CA123"]);
      }
      // A forged signature is flagged, and still forwarded.
      const forgedBody = '{"event_type":"call.ended","call_id":"c","sequence":9}';
      const forgedHeaders = { ...signed(forgedBody), "content-type": "application/json" };
      const forged = await request(`${ready.proxy_url}/webhooks/voice`, { method: "POST", headers: forgedHeaders, body: forgedBody.replace("9", "8") });
      assert.equal(forged.statusCode, 201);
      await forged.body.dump();
      const line = JSON.parse(await vwh.nextLine()) as { signature: unknown };
      assert.deepEqual(line.signature, { valid: false, reason: "no matching signature" });
      assert.equal(upstream.requests.length, 4);
    } finally {
      const result = await vwh.stop();
      await upstream.close();
      assert.equal(result.code, 0, result.stderr);
      for (const line of result.stdout.trim().split("\n")) JSON.parse(line);
    }
  });

  it("answers 413 over --max-body, 502 when nothing listens, 504 when the handler is slow — and keeps serving", async () => {
    const slow = await startServer(async (_request, response) => {
      await sleep(800);
      if (!response.destroyed) response.writeHead(200).end("late");
    });
    const { vwh, ready } = await startTunnel(slow.port, ["--max-body", "1k", "--timeout", "150"], { inProcess: true });
    try {
      const big = await request(`${ready.proxy_url}/hook`, { method: "POST", body: Buffer.alloc(2048, 97) });
      assert.equal(big.statusCode, 413);
      assert.equal(((await big.body.json()) as { error: string }).error, "payload_too_large");
      const timedOut = await request(`${ready.proxy_url}/hook`, { method: "POST", body: "{}" });
      assert.equal(timedOut.statusCode, 504);
      assert.match(((await timedOut.body.json()) as { message: string }).message, /did not answer within 150 ms/);
      const lines = [JSON.parse(await vwh.nextLine()), JSON.parse(await vwh.nextLine())] as { status: number; proxy_error: string }[];
      assert.deepEqual(
        lines.map((line) => line.status),
        [413, 504],
      );
      assert.match(lines[1]!.proxy_error, /no reply within 150 ms/);
    } finally {
      await vwh.stop();
      await slow.close();
    }

    const dead = await refusingServer();
    // In process: the exit 0 on SIGTERM is spawned by tunnel-faults.test.ts (its 50 MiB reply's tunnel).
    const second = await startTunnel(dead.port, [], { inProcess: true });
    try {
      assert.equal(second.ready.target_answers, false);
      assert.match(second.vwh.stderr(), /warning: nothing answers on localhost:\d+ yet/);
      for (let i = 0; i < 2; i++) {
        const response = await request(`${second.ready.proxy_url}/hook`, { method: "POST", body: "{}" });
        assert.equal(response.statusCode, 502);
        assert.match(((await response.body.json()) as { message: string }).message, /nothing is listening on localhost:\d+/);
      }
    } finally {
      const result = await second.vwh.stop("SIGTERM");
      assert.equal(result.code, 0);
    }
  });

  it("records to a file on SIGINT that simulate replays with identical bytes, without credentials or secrets", async () => {
    await withTempDir(async (dir) => {
      const recording = join(dir, "calls.json");
      const upstream = await startServer((_request, response) => void response.writeHead(204).end());
      const replayTarget = await startServer((_request, response) => json(response, 200, { instructions: [{ type: "hangup" }] }));
      // In process (stop() ends it as Ctrl-C does): a real Ctrl-C on a recording tunnel is the double Ctrl-C test's below.
      const { vwh, ready } = await startTunnel(upstream.port, ["--record", recording, "--path", "/webhooks/voice", "--no-inspect"], { inProcess: true });
      assert.equal(ready.inspector_url, null, "--no-inspect");
      const bodies = [
        '{"event_type":"call.started","event_id":"evt_r1","call_id":"call_r","sequence":1,"payload":{"from":"+15550100001"}}',
        '{ "event_type" : "call.ended" , "event_id":"evt_r2","call_id":"call_r","sequence":2,  "payload":{} }',
      ];
      try {
        for (const body of bodies) {
          const response = await request(`${ready.webhook_url}?call=r1`, {
            method: "POST",
            headers: {
              ...signed(body),
              "content-type": "application/json",
              authorization: "Bearer top-secret-token",
              cookie: "session=abc",
              "x-vapi-secret": secret,
            },
            body,
          });
          await response.body.dump();
          await vwh.nextLine();
        }
        // Journaled as they arrive: a crash now would lose nothing.
        assert.equal((await readJournal(`${recording}.journal`)).events.length, 2);
      } finally {
        const result = await vwh.stop("SIGINT");
        await upstream.close();
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stdout, /"event":"recorded".*"requests":2/);
      }
      await assert.rejects(stat(`${recording}.journal`), "the journal is removed once the recording is written");
      const text = await readFile(recording, "utf8");
      for (const forbidden of [secret, "top-secret-token", "session=abc"]) assert.ok(!text.includes(forbidden), `${forbidden} leaked into the recording`);
      const parsed = JSON.parse(text) as {
        events: { event_type: string; raw: { headers: Record<string, string>; body: string; response: { status: number } } }[];
      };
      assert.deepEqual(
        parsed.events.map((event) => event.raw.body),
        bodies,
      );
      assert.equal(parsed.events[0]!.raw.headers["x-vapi-secret"], "[redacted]", "a header carrying the secret is masked");
      assert.deepEqual(
        parsed.events.map((event) => event.raw.response.status),
        [204, 204],
        "each reply is stored beside its request",
      );
      assert.ok(parsed.events[0]!.raw.headers["webhook-signature"], "signature headers stay");
      assert.deepEqual(
        parsed.events.map((event) => event.event_type),
        ["call.started", "call.ended"],
      );

      // The other commands read the recording in process (their own exit paths are spawned in their tests).
      const verify = await runInProcess(["verify-signature", "--recording", recording], { env: { VWH_SECRET: secret } });
      assert.equal(verify.code, 0, verify.stdout + verify.stderr);
      // --url with only an origin keeps each recorded path and query.
      const replay = await runInProcess(["simulate", recording, "--url", `http://127.0.0.1:${replayTarget.port}`], { env: { VWH_SECRET: secret } });
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.deepEqual(
        replayTarget.requests.map((received) => received.body.toString("utf8")),
        bodies,
      );
      assert.deepEqual(
        replayTarget.requests.map((received) => received.url),
        ["/webhooks/voice?call=r1", "/webhooks/voice?call=r1"],
      );
      // The recording is a golden snapshot: today's handler answers 200 with instructions, not 204.
      const compared = await runInProcess(["simulate", recording, "--url", replayTarget.url, "--compare-replies", "--json"], { env: { VWH_SECRET: secret } });
      assert.equal(compared.code, 1, compared.stderr);
      assert.match(compared.stdout, /reply differs from the recording: status 204 → 200/);
      const schema = await runInProcess(["schema", "recording"]);
      assert.match(schema.stdout, /"title": "vwh recording"/);
      await replayTarget.close();

      const again = await runInProcess(["tunnel", "3000", "--local", "--record", recording]);
      assert.equal(again.code, 2);
      assert.match(again.stderr, /calls\.json already exists: record to a new file/);
    });
  });

  it("--redact-pii masks phone numbers and transcripts in the recording", async () => {
    await withTempDir(async (dir) => {
      const recording = join(dir, "calls.json");
      const upstream = await startServer((_request, response) => void response.writeHead(204).end());
      const { vwh, ready } = await startTunnel(upstream.port, ["--record", recording, "--redact-pii", "--no-inspect"], { inProcess: true });
      const body = '{"event_type":"speech.transcribed","call_id":"c","sequence":3,"payload":{"from":"+15550100001","text":"my account number is 1234"}}';
      const response = await request(`${ready.proxy_url}/hook?to=447700900123`, { method: "POST", headers: { "content-type": "application/json" }, body });
      await response.body.dump();
      await vwh.nextLine();
      await vwh.stop();
      await upstream.close();
      assert.deepEqual(upstream.requests[0]!.body.toString(), body, "the handler still gets the real bytes");
      assert.equal(upstream.requests[0]!.url, "/hook?to=447700900123");
      const text = await readFile(recording, "utf8");
      for (const pii of ["+15550100001", "account number", "447700900123"]) assert.ok(!text.includes(pii), `${pii} is in the recording`);
      assert.match(text, /\[redacted\]/);
    });
  });

  it("prints a readable banner and one line per request, on the --proxy-port asked for", async () => {
    const upstream = await startServer((_request, response) => void response.writeHead(204).end());
    const proxyPort = await unusedPort();
    const vwh = await tunnelInProcess([String(upstream.port), "--local", "--proxy-port", String(proxyPort), "--path", "/webhooks/voice"], {
      env: { VWH_SECRET: secret },
    });
    try {
      const banner = [await vwh.nextLine(), await vwh.nextLine(), await vwh.nextLine(), await vwh.nextLine(), await vwh.nextLine()];
      assert.equal(banner[0], `vwh tunnel  local proxy (--local): http://127.0.0.1:${proxyPort}`);
      assert.match(
        banner[1]!,
        new RegExp(`webhook URL   http://127\\.0\\.0\\.1:${proxyPort}/webhooks/voice  ← for local tests only: a voice platform cannot reach 127\\.0\\.0\\.1$`),
      );
      assert.doesNotMatch(banner[1]!, /paste into/, "a 127.0.0.1 URL is not for the platform's dashboard");
      assert.match(banner[4]!, /^ {2}inspector {5}http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(banner[2]!, new RegExp(`forwarding to http://localhost:${upstream.port}/`));
      assert.match(banner[3]!, /signatures {4}checked with the standard scheme/);
      const body = '{"event_type":"call.started","call_id":"call_9","sequence":1}';
      const response = await request(`http://127.0.0.1:${proxyPort}/webhooks/voice`, {
        method: "POST",
        headers: { ...signed(body), "content-type": "application/json" },
        body,
      });
      await response.body.dump();
      let line = await vwh.nextLine();
      while (!line.includes("POST")) line = await vwh.nextLine();
      assert.match(line, /^\d\d:\d\d:\d\d {2}POST {3}\/webhooks\/voice {2}call\.started {2}call_9 #1 {2}204 {2}\d+ ms {2}✓ signature {2}→ empty reply$/);
    } finally {
      await vwh.stop();
      await upstream.close();
    }
  });

  it("never loses a recording: a second Ctrl-C during shutdown is ignored; after SIGKILL, --recover writes it; a second tunnel is refused", async () => {
    await withTempDir(async (dir) => {
      const slow = await startServer(async (received, response) => {
        if (received.url === "/slow") await sleep(700);
        if (!response.destroyed) response.writeHead(200, { "content-type": "application/json" }).end('{"instructions":[{"type":"hangup"}]}');
      });
      try {
        const first = join(dir, "first.json");
        const tunnel = await startTunnel(slow.port, ["--record", first, "--no-inspect"]);
        const second = await runInProcess(["tunnel", String(slow.port), "--local", "--record", first]);
        assert.equal(second.code, 2, second.stderr);
        assert.match(second.stderr, /^vwh: .*first\.json: another vwh tunnel \(pid \d+\) is recording to it$/m);
        // One request still in flight while Ctrl-C is pressed twice.
        const inFlight = request(`${tunnel.ready.proxy_url}/slow`, { method: "POST", body: '{"event_type":"call.ended","call_id":"c1"}' }).then((response) =>
          response.body.dump(),
        );
        while (slow.requests.length === 0) await sleep(10);
        const stopped = tunnel.vwh.stop("SIGINT");
        await sleep(50);
        await tunnel.vwh.stop("SIGINT");
        const result = await stopped;
        await inFlight.catch(() => undefined);
        assert.equal(result.code, 0, result.stderr);
        assert.match(result.stderr, /still writing the recording/);
        assert.equal(JSON.parse(await readFile(first, "utf8")).events.length, 1);
        // The process's Ctrl-C released the recording's lock and removed its journal (recording-lock.test.ts in process).
        await assert.rejects(stat(`${first}.journal.lock`), "the lock is released");
        await assert.rejects(stat(`${first}.journal`), "the journal is removed once the recording is written");

        const killed = join(dir, "killed.json");
        const victim = await startTunnel(slow.port, ["--record", killed, "--no-inspect"]);
        const response = await request(`${victim.ready.proxy_url}/hook`, { method: "POST", body: '{"event_type":"call.started","call_id":"c2"}' });
        await response.body.dump();
        await victim.vwh.nextLine();
        await victim.vwh.stop("SIGKILL");
        await assert.rejects(stat(killed));
        // (A new tunnel on the left journal is refused, naming --recover: tunnel-proxy.test.ts.)
        const recovered = await runInProcess(["tunnel", "--recover", `${killed}.journal`, "--json"]);
        assert.equal(recovered.code, 0, recovered.stderr);
        assert.deepEqual(JSON.parse(recovered.stdout), { event: "recorded", file: killed, requests: 1, displaced: false });
        const events = (await loadFlow(killed)).flow.events!;
        assert.equal(events[0]!.raw!.response!.status, 200, "the reply was journaled before the kill");
      } finally {
        await slow.close();
      }
    });
  });

  it("a --record folder that does not exist is exit 2, a busy --proxy-port exit 3: one line each", async () => {
    await withTempDir(async (dir) => {
      const missing = await runInProcess(["tunnel", "3000", "--local", "--record", join(dir, "nowhere", "calls.json")]);
      assert.equal(missing.code, 2, missing.stderr);
      assert.match(missing.stderr, /^vwh: .*calls\.json: cannot record: the folder .*nowhere does not exist\n {2}hint: /);
      assert.doesNotMatch(missing.stderr, /unexpected|\n {4}at /);
    });
    const busy = await startServer(() => {});
    try {
      // In process: exit 3 is spawned by the offline ngrok test below.
      const result = await runInProcess(["tunnel", "3000", "--local", "--proxy-port", String(busy.port)]);
      assert.equal(result.code, 3, result.stderr);
      assert.equal(result.stderr.split("\n")[0], `vwh: --proxy-port: port ${busy.port} on 127.0.0.1 is already in use`);
      const inspector = await runInProcess(["tunnel", "3000", "--local", "--inspect-port", String(busy.port)]);
      assert.equal(inspector.code, 3, inspector.stderr);
      assert.match(inspector.stderr, new RegExp(`^vwh: --inspect-port: port ${busy.port} on 127\\.0\\.0\\.1 is already in use`));
    } finally {
      await busy.close();
    }
  });

  it("rejects bad arguments with exit 2", async () => {
    // In process: exit 2 is spawned by the missing-token test below.
    const noPort = await runInProcess(["tunnel", "--local"]);
    assert.equal(noPort.code, 2);
    assert.match(noPort.stderr, /missing <port>/);
    const recoverWithPort = await runInProcess(["tunnel", "3000", "--recover", "x.json.journal"]);
    assert.equal(recoverWithPort.code, 2);
    assert.match(recoverWithPort.stderr, /--recover takes a journal, not a <port>/);
    const badPort = await runInProcess(["tunnel", "http", "--local"]);
    assert.equal(badPort.code, 2);
    assert.match(badPort.stderr, /<port>: expected a port number from 1 to 65535, got "http"/);
    const badPath = await runInProcess(["tunnel", "3000", "--local", "--path", "webhooks"]);
    assert.equal(badPath.code, 2);
    assert.match(badPath.stderr, /--path: expected a path starting with \//);
    const badSize = await runInProcess(["tunnel", "3000", "--local", "--max-body", "lots"]);
    assert.equal(badSize.code, 2);
    assert.match(badSize.stderr, /--max-body: expected a size in bytes/);
  });
});

describe("vwh tunnel through ngrok", () => {
  it("prints the public webhook URL and closes the listener on stop (injected forward)", async () => {
    const upstream = await startServer((_request, response) => void response.writeHead(204).end());
    const calls: { config: Record<string, unknown>; closed: boolean } = { config: {}, closed: false };
    const forward = async (config: ForwardConfig) => {
      calls.config = { ...config };
      return { url: () => "https://vwh-test.ngrok.app", close: async () => void (calls.closed = true) };
    };
    const stop = new AbortController();
    const written: string[] = [];
    const originalWrite = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const running = tunnelCommand(
        String(upstream.port),
        {
          command: "tunnel",
          options: { json: true, path: "/webhooks/voice", domain: "vwh-test.ngrok.app", timeout: "30000", proxyPort: "0", tolerance: "300" },
          sources: {},
        },
        {
          env: { NGROK_AUTHTOKEN: "tok_from_env", NO_COLOR: "1" },
          forward,
          stop: stop.signal,
        },
      );
      let failed: unknown;
      running.catch((error: unknown) => (failed = error));
      while (!written.some((line) => line.includes('"listening"'))) {
        if (failed) throw failed;
        await sleep(10);
      }
      stop.abort();
      await running;
    } finally {
      process.stdout.write = originalWrite;
      await upstream.close();
    }
    const ready = JSON.parse(written.find((line) => line.includes('"listening"'))!) as Listening;
    assert.equal(ready.public_url, "https://vwh-test.ngrok.app");
    assert.equal(ready.webhook_url, "https://vwh-test.ngrok.app/webhooks/voice");
    assert.equal(calls.config.authtoken_from_env, true);
    assert.equal(calls.config.domain, "vwh-test.ngrok.app");
    assert.equal(calls.config.authtoken, undefined, "the token is read by ngrok from the environment, not passed around");
    assert.match(String(calls.config.addr), /^127\.0\.0\.1:\d+$/);
    assert.equal(calls.closed, true);
    assert.ok(!written.join("").includes("tok_from_env"));
  });

  it("reads the token from ngrok's own config when NGROK_AUTHTOKEN is unset", async () => {
    await withTempDir(async (home) => {
      await mkdir(join(home, ".config", "ngrok"), { recursive: true });
      await writeFile(join(home, ".config", "ngrok", "ngrok.yml"), 'version: "3"\nagent:\n  authtoken: 2abcDEF_config_token\n');
      assert.equal(await tokenFromNgrokConfig({}, home), "2abcDEF_config_token");
      assert.equal(await tokenFromNgrokConfig({ NGROK_CONFIG: join(home, "missing.yml") }, home), undefined);
    });
  });

  it("without any token: exit 2 naming NGROK_AUTHTOKEN and where to get one", async () => {
    await withTempDir(async (home) => {
      const result = await runVwh(["tunnel", "3000"], { env: { HOME: home, XDG_CONFIG_HOME: join(home, ".config"), NGROK_AUTHTOKEN: undefined } });
      assert.equal(result.code, 2, result.stderr);
      assert.match(result.stderr, /^vwh: NGROK_AUTHTOKEN is not set and ngrok's config has no authtoken$/m);
      assert.match(result.stderr, /dashboard\.ngrok\.com/);
    });
  });

  it("the real @ngrok/ngrok library, offline with a bogus token: exit 3 with ngrok's message, token never shown", async () => {
    const token = "bogus_token_vwh_test_123";
    const result = await runVwh(["tunnel", "3000"], { env: { NGROK_AUTHTOKEN: token } });
    assert.equal(result.code, 3, result.stdout + result.stderr);
    assert.match(result.stderr, /^vwh: could not open the ngrok tunnel: /m);
    assert.ok(!result.stderr.includes(token) && !result.stdout.includes(token));
  });

  const liveToken = process.env.NGROK_AUTHTOKEN;
  it("live: opens a real public URL", {
    skip: liveToken ? false : "NGROK_AUTHTOKEN is not set: the live ngrok test needs a real token and network access",
  }, async () => {
    const upstream = await startServer((_request, response) => void response.writeHead(204).end());
    const vwh = spawnVwh(["tunnel", String(upstream.port), "--json"], { env: { NGROK_AUTHTOKEN: liveToken } });
    try {
      const ready = JSON.parse(await vwh.nextLine()) as Listening;
      assert.match(ready.public_url ?? "", /^https:\/\//);
      const response = await request(ready.public_url!, { method: "POST", body: "{}" });
      assert.equal(response.statusCode, 204);
    } finally {
      await vwh.stop();
      await upstream.close();
    }
  });
});

describe("recorder", () => {
  it("keeps every complete journal line after a crash, skipping only a torn tail", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const recorder = await Recorder.open(file, { redactPii: false });
      await recorder.append({ receivedAt: new Date(), method: "POST", path: "/", url: undefined, headers: {}, body: Buffer.from("{}") });
      await writeFile(`${file}.journal`, `${await readFile(`${file}.journal`, "utf8")}{"raw": {"meth`);
      assert.equal((await readJournal(`${file}.journal`)).events.length, 1);
      assert.equal((await recorder.finish("after crash")).requests, 1);
    });
  });
});
