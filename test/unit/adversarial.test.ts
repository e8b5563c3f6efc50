/**
 * Adversarial pass: a handler's reply is hostile input. Whatever it answers, every platform's reply
 * parser returns findings, never throws (a throw is exit 70 with a stack trace).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadPlatform, platformIds } from "../../src/platforms/registry.js";
import type { ReplyContext, StreamEnd } from "../../src/platforms/types.js";
import { playStreamWith } from "../../src/media/stream.js";
import type { StreamScript } from "../../src/media/script.js";
import type { MediaProtocolLoader } from "../../src/media/protocol.js";
import { fakeClock, startAgentServer, type AgentServer } from "../media-agents.js";

/** Starts an agent that floods from vwh's first message on (and never closes), and closes it after `work`. */
async function withFloodingAgent(flood: (socket: import("ws").WebSocket, first: Buffer) => void, work: (server: AgentServer) => Promise<void>): Promise<void> {
  const server = await startAgentServer((socket) => socket.once("message", (data: Buffer) => flood(socket, data)));
  try {
    await work(server);
  } finally {
    await server.close();
  }
}

/** Plays a script with no caller steps (the agent's first turn, then the caller hangs up) on a stream to `server`, on a fake clock in lockstep. */
async function playAgainst(server: AgentServer, protocol: string, record: StreamScript["record"]): Promise<StreamEnd> {
  const clock = fakeClock();
  const loaders: Record<string, MediaProtocolLoader> = {
    vwh: () => import("../../src/platforms/vwh/media.js"),
    "twilio-relay": () => import("../../src/platforms/twilio/relay.js"),
  };
  return playStreamWith(
    loaders[protocol]!,
    { url: new URL(server.streamUrl), protocol, headers: {}, parameters: {}, path: "stream" },
    { upcoming: () => undefined, record, advance: () => undefined },
    {
      callId: "call_flood",
      newId: (prefix) => `${prefix}_1`,
      clock: { ...clock, lockstep: true },
      target: new URL(server.webhookUrl),
      publicUrl: undefined,
      firstAudioLimitMs: undefined,
      connectTimeoutMs: 5000,
      signUpgrade: undefined,
    },
  );
}

const hostileBodies: Record<string, Buffer> = {
  "an internal DTD whose entities expand past the parser's limit": Buffer.from(
    `<!DOCTYPE r [<!ENTITY a "${"x".repeat(10_000)}">]><Response><Speak>${"&a;".repeat(20)}</Speak></Response>`,
  ),
  "an external entity": Buffer.from(`<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Response><Speak>&xxe;</Speak></Response>`),
  "XML nested 2 000 deep": Buffer.from(`<Response>${"<Speak>".repeat(2_000)}${"</Speak>".repeat(2_000)}</Response>`),
  "an element named __proto__": Buffer.from(`<Response><__proto__ a="1"/></Response>`),
  "JSON nested 20 000 deep": Buffer.from(`${"[".repeat(20_000)}${"]".repeat(20_000)}`),
  "JSON objects nested 5 000 deep": Buffer.from(`${'{"a":'.repeat(5_000)}1${"}".repeat(5_000)}`),
  "invalid UTF-8": Buffer.from([0x3c, 0x52, 0xff, 0xfe, 0xc0, 0x80, 0x7b, 0x5b]),
};

describe("hostile replies to every platform's reply parser", () => {
  it("are findings, never a throw", async () => {
    const thrown: string[] = [];
    for (const id of platformIds) {
      const platform = await loadPlatform(id);
      for (const eventType of Object.keys(platform.events)) {
        const context: ReplyContext = {
          eventType,
          waits: true,
          expectsActions: true,
          request: { method: "POST", url: new URL("https://agent.test/hook"), body: Buffer.from("{}"), contentType: "application/json", headers: {} },
        };
        for (const [name, body] of Object.entries(hostileBodies)) {
          for (const contentType of ["application/xml", "application/json"]) {
            try {
              platform.parseReply({ status: 200, headers: { "content-type": contentType }, body }, context);
            } catch (error) {
              thrown.push(`${id} ${eventType} ${name} (${contentType}): ${(error as Error).message.slice(0, 80)}`);
            }
          }
        }
      }
    }
    assert.deepEqual(thrown, []);
  });
});

describe("a handler that streams its reply forever", () => {
  // Chunks of 64 KiB until the client hangs up: without a bound, the reply fills memory until the timeout.
  const endless = async () => {
    const { createServer } = await import("node:http");
    const chunk = Buffer.alloc(64 * 1024, "a");
    const server = createServer((_request, response) => {
      response.writeHead(200, { "content-type": "application/json" });
      const more = () => {
        while (!response.destroyed && response.write(chunk));
        if (!response.destroyed) response.once("drain", more);
      };
      more();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as import("node:net").AddressInfo).port;
    return {
      url: new URL(`http://127.0.0.1:${port}/hook`),
      close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
    };
  };

  it("is cut off at maxReplyBytes by undici delivery and the fast client", async () => {
    const { createDispatcher, deliver, maxReplyBytes } = await import("../../src/transport/undici.js");
    const { createFastClient } = await import("../../src/transport/fast-client/index.js");
    const server = await endless();
    const dispatcher = createDispatcher(1);
    const fast = createFastClient({ connections: 1 });
    try {
      const request = { url: server.url, headers: {}, body: Buffer.from("{}"), timeoutMs: 60_000, dispatcher };
      for (const transport of [deliver, fast.deliver]) {
        const result = await transport(request);
        assert.equal(result.ok, false);
        assert.equal(!result.ok && result.code, "REPLY_TOO_LARGE");
        assert.match(!result.ok ? result.message : "", new RegExp(`over ${maxReplyBytes / 1024 / 1024} MiB`));
      }
      // The tunnel's proxy streams a reply of any size to the platform, as ngrok does, keeping a bounded copy
      // (issue 26, defect 4): tested in e2e/tunnel-hardening.test.ts.
    } finally {
      await Promise.all([fast.close(), dispatcher.close(), server.close()]);
    }
  });
});

describe("stream URLs from a reply", () => {
  it("are followed only as ws(s) to the handler's host or loopback: never a unix socket, never another scheme", async () => {
    const { socketUrl } = await import("../../src/media/stream.js");
    const options = { target: new URL("http://127.0.0.1:3000/hook"), publicUrl: new URL("https://agent.example/hook") };
    // ws+unix://localhost/… is a unix socket to `ws` (the Docker API's, say); ftp: makes its constructor throw.
    for (const hostile of [
      "ws+unix://localhost/var/run/docker.sock:/containers/json",
      "ftp://127.0.0.1/x",
      "http+unix://localhost/x",
      "ws://169.254.169.254/latest/meta-data",
      "wss://agent.example.evil.test/media",
    ]) {
      assert.equal(socketUrl(new URL(hostile), options), undefined, hostile);
    }
    assert.equal(socketUrl(new URL("wss://agent.example/media?x=1"), options)?.href, "ws://127.0.0.1:3000/media?x=1");
    assert.equal(socketUrl(new URL("ws://[::1]:8081/media"), options)?.href, "ws://[::1]:8081/media");
  });
});

describe("a Telnyx handler that floods the local Call Control API", () => {
  it("gets 429 past maxCommandsPerCall, one loop finding, and the call ends instead of running as long as the flood", async () => {
    const { CallControlApi } = await import("../../src/platforms/telnyx/api-server.js");
    const { TelnyxCallDriver, maxCommandsPerCall } = await import("../../src/platforms/telnyx/driver.js");
    const api = await CallControlApi.open(0);
    try {
      const driver = new TelnyxCallDriver(
        {
          call: { callId: "call_flood", from: undefined, to: undefined, direction: undefined },
          url: new URL("http://127.0.0.1:1/hook"),
          start: new Date(0),
          newId: (prefix) => `${prefix}_1`,
          settings: {},
          now: () => 0,
          wait: async () => {},
        },
        api,
      );
      // Refused commands (no Authorization) keep nothing in flight: each used to become one more finding, without end.
      const statuses = new Set<number>();
      for (let i = 0; i < maxCommandsPerCall + 50; i++)
        statuses.add(driver.receive({ command: "speak", method: "POST", body: { ok: true, value: {} }, authorized: false }).status);
      assert.deepEqual([...statuses], [401, 429]);
      const failures: string[] = [];
      let ended: string | undefined;
      for (let moves = 0; moves < 3 * maxCommandsPerCall && ended === undefined; moves++) {
        const move = await driver.next();
        if (move.kind === "send") driver.replied(move.webhook, { ok: false, message: "not delivered" });
        if (move.kind === "observed") failures.push(...move.failures.map((finding) => finding.message));
        if (move.kind === "ended") ended = move.reason;
      }
      assert.equal(ended, "failed");
      assert.equal(failures.filter((message) => message.includes("the handler loops")).length, 1);
      assert.ok(failures.length <= maxCommandsPerCall + 1, `${failures.length} findings`);
    } finally {
      await api.close();
    }
  });
});

describe("vwh init --platform <id> --yes, as a new user runs it", () => {
  it("points vwh.config.json at the path the platform's example handler serves, so vwh simulate works against it at once", async () => {
    const { readFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    const { repoRoot } = await import("../helpers.js");
    const { platformDefaults } = await import("../../src/commands/init.js");
    for (const id of platformIds) {
      const handler = join(repoRoot, "examples", id === "vwh" ? "voice-handler.js" : `${id}-handler.js`);
      // Read, not imported: importing the eight handlers loads every platform SDK (half a second of the suite).
      const served = [...(await readFile(handler, "utf8")).matchAll(/^export const \w+_PATH = "([^"]+)";$/gm)].map((match) => match[1]);
      const { pathname } = new URL(platformDefaults(await loadPlatform(id)).url);
      assert.ok(served.includes(pathname), `${id}: init proposes ${pathname}, ${handler} serves ${served.join(", ")}`);
    }
  });
});

describe("a media agent that floods the stream", () => {
  it("gets a bounded list of findings per turn, however many bad messages it sends", async () => {
    const { maxStreamFindingsPerTurn } = await import("../../src/media/stream-session.js");
    // 5 000 messages that are not the protocol's, as fast as the socket takes them.
    await withFloodingAgent(
      (socket) => {
        for (let i = 0; i < 5_000; i++) socket.send(`garbage ${i}`);
      },
      async (server) => {
        const recorded: number[] = [];
        const end = await playAgainst(server, "vwh", (_media, findings) => void recorded.push(findings.length));
        assert.equal(end.kind, "caller_hangup");
        assert.ok(
          recorded.every((count) => count <= maxStreamFindingsPerTurn + 1),
          `findings per turn: ${recorded.join(", ")}`,
        );
        assert.ok(recorded.includes(maxStreamFindingsPerTurn + 1), `the flood is counted: ${recorded.join(", ")}`);
      },
    );
  });
});

describe("a ConversationRelay agent that streams text without end", () => {
  it("has its turn's text kept to maxTurnTextChars (unbounded, it ends in V8's string limit: a RangeError out of the socket's message handler)", async () => {
    const { maxTurnTextChars } = await import("../../src/media/text-session.js");
    const { speechMs } = await import("../../src/platforms/shared/timing.js");
    const token = "w ".repeat(50_000);
    await withFloodingAgent(
      (socket) => {
        for (let i = 0; i < 20; i++) socket.send(JSON.stringify({ type: "text", token, last: false }));
      },
      async (server) => {
        const figures: number[] = [];
        await playAgainst(server, "twilio-relay", (media) => void (media && figures.push(media.agentAudioMs ?? 0)));
        assert.ok(
          figures.length > 0 && figures.every((ms) => ms > 0 && ms <= speechMs("w ".repeat(maxTurnTextChars / 2))),
          `agent audio ms: ${figures.join(", ")}`,
        );
      },
    );
  });
});

describe("a media agent that floods marks behind its audio", () => {
  it("has marks past maxQueuedMarks dropped with a finding, not queued without end", async () => {
    const { maxQueuedMarks } = await import("../../src/media/session.js");
    await withFloodingAgent(
      (socket, start) => {
        const streamId = (JSON.parse(start.toString("utf8")) as { stream_id: string }).stream_id;
        // One second of μ-law silence, then more marks than vwh queues: each would be acknowledged when played.
        socket.send(JSON.stringify({ event: "media", stream_id: streamId, media: { payload: Buffer.alloc(8000, 0xff).toString("base64") } }));
        for (let i = 0; i < maxQueuedMarks + 200; i++) socket.send(JSON.stringify({ event: "mark", stream_id: streamId, mark: { name: `m${i}` } }));
      },
      async (server) => {
        const findings: string[] = [];
        await playAgainst(server, "vwh", (_media, found) => void findings.push(...found.map((finding) => finding.message)));
        assert.equal(server.received.filter((message) => (message as { event?: string }).event === "mark").length, maxQueuedMarks);
        assert.ok(
          findings.some((message) => message.includes(`more than ${maxQueuedMarks} marks`)),
          findings.slice(0, 3).join("; "),
        );
      },
    );
  });
});

describe("input files that never end", () => {
  it("are refused past maxInputFileBytes (a flow or an audio step naming /dev/zero), and a WAV's sample rate is bounded", {
    skip: process.platform === "win32" && "no /dev/zero",
  }, async () => {
    const { readTextFile, maxInputFileBytes } = await import("../../src/files/json-file.js");
    const { wavProblem } = await import("../../src/media/audio.js");
    await assert.rejects(readTextFile("/dev/zero", "call flow"), new RegExp(`/dev/zero: cannot read call flow: over ${maxInputFileBytes / 1024 / 1024} MiB`));
    assert.match((await wavProblem("/dev/zero")) ?? "", /over 64 MiB/);
    const wavefile = (await import("wavefile")).default;
    const { withTempDir } = await import("../helpers.js");
    const { writeFile } = await import("node:fs/promises");
    const { join } = await import("node:path");
    await withTempDir(async (dir) => {
      const wav = new wavefile.WaveFile();
      wav.fromScratch(1, 1, "16", new Int16Array(1000));
      await writeFile(join(dir, "slow.wav"), wav.toBuffer());
      assert.match((await wavProblem(join(dir, "slow.wav"))) ?? "", /sample rate from 8000 to 192000 Hz in the WAV file, got 1$/);
    });
  });
});

describe("native paths from a flow file", () => {
  it("with a bad escape in a quoted key select nothing (a finding), never throw (was exit 70)", async () => {
    const { checkNative } = await import("../../src/checks/expectations.js");
    const { jsonDocument } = await import("../../src/platforms/shared/json-document.js");
    const findings = checkNative(
      [
        { path: 'instructions["\\u12"]', equals: 1 },
        { path: 'a["\\x"].b', contains: "x" },
      ],
      [jsonDocument({ instructions: [] })],
    );
    assert.deepEqual(
      findings.map((finding) => finding.message),
      ["expected 1, got nothing there", 'expected to contain "x", got nothing there'],
    );
  });
});

describe("a caller script's press", () => {
  it("takes at most maxPressKeys keys: a megabyte of w (half a second each) played on a stream was days of frames", async () => {
    const { scriptStepSchema, maxPressKeys } = await import("../../src/files/caller-script.js");
    assert.equal(scriptStepSchema.safeParse({ press: "1".repeat(maxPressKeys) }).success, true);
    const refused = scriptStepSchema.safeParse({ press: "w".repeat(1_000_000) });
    assert.equal(refused.success, false);
    assert.match(refused.error?.issues[0]?.message ?? "", new RegExp(`at most ${maxPressKeys} keys`));
  });
});

describe("a media agent that speaks the moment the socket opens", () => {
  it("is heard: its first messages are not lost while vwh sets the session up", async () => {
    const server = await startAgentServer((socket) => {
      for (let i = 0; i < 3; i++) socket.send(`early ${i}`);
    });
    try {
      const findings: string[] = [];
      await playAgainst(server, "vwh", (_media, found) => void findings.push(...found.map((finding) => finding.message)));
      assert.deepEqual(findings.filter((message) => message.startsWith("expected a JSON message")).length, 3, findings.join("; "));
    } finally {
      await server.close();
    }
  });
});

describe("a --url with a password in it", () => {
  it("is printed with the password masked (simulate's and verify-signature's headers and --json target)", async () => {
    const { runInProcess, withFlowFile, flowWith } = await import("../helpers.js");
    await withFlowFile(flowWith([{ event_type: "call.started" }]), async (file) => {
      const simulated = await runInProcess(["simulate", file, "--url", "http://admin:hunter2pass@127.0.0.1:1/hook", "--json"], {
        env: { VWH_SECRET: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0" },
      });
      assert.equal((JSON.parse(simulated.stdout) as { target: string }).target, "http://admin:***@127.0.0.1:1/hook");
      assert.doesNotMatch(simulated.stdout + simulated.stderr, /hunter2pass/);
    });
    const probed = await runInProcess(["verify-signature", "--url", "http://admin:hunter2pass@127.0.0.1:1/hook"], {
      env: { VWH_SECRET: "whsec_c2VjcmV0c2VjcmV0c2VjcmV0" },
    });
    assert.doesNotMatch(probed.stdout + probed.stderr, /hunter2pass/);
  });
});

describe("a reply of thousands of verbs", () => {
  it("is listed in a report line as its first 30 action types and the count", async () => {
    const { compareActions } = await import("../../src/checks/expectations.js");
    const actions = Array.from({ length: 40_000 }, (_, index) => ({ type: index % 2 ? "pause" : "speak" }));
    const [finding] = compareActions(["speak"], actions as never, "Response");
    assert.match(finding?.message ?? "", /^expected \[speak\], got \[speak, pause, .*, … \(40000 in all\)\]$/);
    assert.ok((finding?.message.length ?? 0) < 400);
  });
});

describe("a reply pointing at a file: or javascript: URL", () => {
  it('is not followed, and the finding names the scheme rather than the origin "null"', async () => {
    const { startServer } = await import("../helpers.js");
    const { inlineFlow, simulateAgainst } = await import("../platform-helpers.js");
    const server = await startServer(
      (_request, response) => void response.writeHead(200, { "content-type": "text/xml" }).end("<Response><Redirect>file:///etc/passwd</Redirect></Response>"),
      "/twilio/voice",
    );
    try {
      const flow = await inlineFlow({ version: 1, platform: "twilio", name: "file redirect", call: { call_id: "c1" }, script: [{}] });
      const result = await simulateAgainst(server, [flow], { scheme: "twilio", secret: "twilio-token" });
      const messages = JSON.stringify(result.flows);
      assert.match(messages, /"path":"file:\/\/\/etc\/passwd","message":"not followed: a file: URL is not the handler's origin/);
      assert.doesNotMatch(messages, /null is not/);
    } finally {
      await server.close();
    }
  });
});
