/**
 * Media streams on vwh's own protocol (issue 17), end to end and in-process: a webhook handler answers
 * with a `stream` instruction, vwh opens the socket, speaks the script, and measures the agent — on a
 * fake clock, so every figure below is exact.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WebSocket } from "ws";
import { join } from "node:path";
import wavefile from "wavefile";
import { decode, encode, synthesizeSpeech } from "../../src/media/audio.js";
import { formatTurnMedia } from "../../src/ui/simulate-report.js";
import { writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { fixture, loadExampleHandler, newSecret, repoRoot, withTempDir } from "../helpers.js";
import { Chalk } from "chalk";
import { loadFlow } from "../../src/files/call-flow.js";
import { runLoad } from "../../src/engine/load/run.js";
import { formatLoadSummary, toJsonLoadReport } from "../../src/ui/load-report.js";
import { runDescription, runFlowFile, runScript, simulationOptions, startAgentServer, turnTaker, type Agent, type AgentServer } from "../media-agents.js";

const mulaw = { encoding: "mulaw", sampleRate: 8000 } as const;

interface VwhMessage {
  event: string;
  stream_id: string;
  media?: { payload: string; track: string; timestamp_ms: number };
  dtmf?: { digit: string };
  mark?: { name: string };
}

/** A vwh-protocol agent: greets, then answers each utterance after `endOfSpeechFrames` of silence. */
function vwhAgent(options: {
  endOfSpeechFrames: number;
  reply: (heard: Int16Array[]) => Int16Array;
  clears: boolean;
  greeting?: string;
  onDigit?: (socket: WebSocket, digit: string) => void;
}): Agent {
  return (socket) => {
    let streamId = "";
    let replies = 0;
    const say = (samples: Int16Array) => {
      socket.send(JSON.stringify({ event: "media", stream_id: streamId, media: { payload: encode(samples, mulaw).toString("base64") } }));
      socket.send(JSON.stringify({ event: "mark", stream_id: streamId, mark: { name: `reply-${++replies}` } }));
    };
    const listen = turnTaker(
      options.endOfSpeechFrames,
      (heard) => say(options.reply(heard)),
      () => options.clears && replies > 0 && socket.send(JSON.stringify({ event: "clear", stream_id: streamId })),
    );
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString("utf8")) as VwhMessage;
      if (message.event === "start") {
        streamId = message.stream_id;
        say(synthesizeSpeech(options.greeting ?? "Hello, how can I help?", 8000));
      }
      if (message.event === "media" && message.media!.track === "inbound") listen(decode(Buffer.from(message.media!.payload, "base64"), mulaw));
      if (message.event === "dtmf") options.onDigit?.(socket, message.dtmf!.digit);
    });
  };
}

const echo = (heard: Int16Array[]) => Int16Array.from(heard.flatMap((frame) => [...frame]));

describe("media streams: vwh protocol", () => {
  let echoAgent: AgentServer;
  before(async () => {
    echoAgent = await startAgentServer(
      vwhAgent({ endOfSpeechFrames: 10, reply: echo, clears: true, greeting: "Hi", onDigit: (socket) => socket.close(1000, "transferred") }),
    );
  });
  after(() => echoAgent.close());

  it("streams the script as 20 ms μ-law frames and measures an echoing agent turn by turn", () =>
    withTempDir(async (dir) => {
      const { result, report } = await runScript(dir, echoAgent.webhookUrl, {
        name: "echo",
        script: [
          { expect: { actions: ["stream"], first_audio_ms: 100 } },
          { say: "change my appointment", expect: { first_audio_ms: 250 } },
          { interrupt: "wait a moment", expect: { stops_on_interrupt: true } },
          { say: "thanks" },
        ],
      });
      const turns = report.flows[0]!.turns!;
      assert.deepEqual(
        turns.map((turn) => [turn.label, turn.passed]),
        [
          ["connect", true],
          ['say "change my appointment"', true],
          ['interrupt "wait a moment"', true],
          ['say "thanks"', true],
          ["hangup (script ran out)", true],
        ],
      );
      // The greeting arrives in answer to start: one 20 ms step later. Each reply comes after the agent's
      // 10 silent frames (200 ms) of end-of-speech detection.
      assert.deepEqual(
        turns.map((turn) => turn.media?.first_audio_ms ?? null),
        [20, 200, 200, 200, null],
      );
      // Echoes are as long as the speech: 400 ms a word (speechMs), like the one-word greeting.
      assert.equal(turns[0]!.media!.agent_audio_ms, 400);
      assert.equal(turns[1]!.media!.agent_audio_ms, 1200);
      assert.equal(turns[2]!.media!.stops_on_interrupt, true);
      assert.deepEqual(turns[0]!.media!.marks, { sent: 1, acknowledged: 1 });
      assert.equal(result.flows[0]!.passed, true);
      // What the agent got: start, then only whole 20 ms frames with rising timestamps, then stop.
      const received = echoAgent.received as VwhMessage[];
      assert.equal(received[0]!.event, "start");
      const media = received.filter((message) => message.event === "media");
      assert.ok(media.every((message) => Buffer.from(message.media!.payload, "base64").length === 160));
      assert.deepEqual(
        media.slice(0, 3).map((message) => message.media!.timestamp_ms),
        [0, 20, 40],
      );
      assert.equal(received.at(-1)!.event, "stop");
      assert.ok(received.every((message) => message.stream_id === received[0]!.stream_id));
    }));

  it("plays a say step's own WAV recording, converted to 8 kHz μ-law mono", () =>
    withTempDir(async (dir) => {
      // 0.5 s of a 440 Hz tone, 16 kHz stereo 16-bit: vwh resamples and mixes it down.
      const samples = Array.from({ length: 8000 }, (_, index) => Math.round(8000 * Math.sin((2 * Math.PI * 440 * index) / 16000)));
      const wav = new wavefile.WaveFile();
      wav.fromScratch(2, 16000, "16", [samples, samples]);
      await writeFile(join(dir, "hello.wav"), wav.toBuffer());
      const { report } = await runScript(dir, echoAgent.webhookUrl, { name: "recording", script: [{}, { say: "hello", audio: "hello.wav" }] });
      const turn = report.flows[0]!.turns![1]!;
      assert.equal(turn.passed, true, JSON.stringify(turn.failures));
      // The echo is the recording as vwh sent it: 500 ms.
      assert.equal(turn.media!.agent_audio_ms, 500);
      assert.equal(turn.media!.first_audio_ms, 200);
    }));

  it("refuses a script whose recording is missing or not a WAV, naming the step, before anything is sent", () =>
    withTempDir(async (dir) => {
      await writeFile(join(dir, "notes.wav"), "not audio");
      const file = join(dir, "bad-audio.json");
      await writeFile(
        file,
        JSON.stringify({ version: 1, name: "bad audio", script: [{}, { say: "hi", audio: "missing.wav" }, { say: "hi", audio: "notes.wav" }] }, null, 2),
      );
      await assert.rejects(loadFlow(file), (error: Error) => {
        assert.match(error.message, /script\[1\]\.audio: missing\.wav: cannot read the audio file: ENOENT/);
        assert.match(error.message, /bad-audio\.json:12:16: script\[2\]\.audio: notes\.wav: not a WAV file/);
        assert.equal(error.name, "InputError");
        return true;
      });
    }));

  it("sends key presses as dtmf messages; an agent that closes the socket ends the stream", () =>
    withTempDir(async (dir) => {
      const { report } = await runScript(dir, echoAgent.webhookUrl, { name: "dtmf", script: [{}, { press: "0" }] });
      const flow = report.flows[0]!;
      assert.deepEqual(
        flow.turns!.map((turn) => [turn.label, turn.passed]),
        [
          ["connect", true],
          ["press 0", true],
          ["hangup (script ran out)", true],
        ],
      );
      // The socket closed under the press turn: no reply audio, and the call went on with webhooks.
      assert.equal(flow.turns![1]!.media!.first_audio_ms, null);
      assert.deepEqual(
        flow.events.map((event) => event.event_type),
        ["call.started", "media.stream.connected", "call.ended"],
      );
      assert.ok((echoAgent.received as VwhMessage[]).some((message) => message.event === "dtmf" && message.dtmf!.digit === "0"));
    }));
});

describe("media streams: the stream instruction's fields", () => {
  it("track both echoes the agent's played audio as outbound; chunk_ms sets the message size; bidirectional false refuses agent audio", async () => {
    const agent = vwhAgent({ endOfSpeechFrames: 10, reply: echo, clears: false, greeting: "Hi" });
    const both = await startAgentServer(agent, { track: "both", chunk_ms: 40 });
    const oneWay = await startAgentServer(agent, { bidirectional: false });
    try {
      await withTempDir(async (dir) => {
        const { report } = await runScript(dir, both.webhookUrl, { name: "both", script: [{}] });
        assert.equal(report.flows[0]!.passed, true, JSON.stringify(report.flows[0]!.turns));
        const received = both.received as (VwhMessage & { tracks?: string[]; chunk_ms?: number })[];
        assert.deepEqual([received[0]!.tracks, received[0]!.chunk_ms], [["inbound", "outbound"], 40]);
        const media = received.filter((message) => message.event === "media");
        assert.ok(media.every((message) => Buffer.from(message.media!.payload, "base64").length === 320));
        // The greeting as played comes back on the outbound track, not silence.
        const outbound = media
          .filter((message) => message.media!.track === "outbound")
          .map((message) => decode(Buffer.from(message.media!.payload, "base64"), mulaw));
        assert.ok(outbound.some((samples) => samples.some((sample) => Math.abs(sample) > 500)));
        assert.deepEqual(
          media.slice(0, 2).map((message) => [message.media!.track, message.media!.timestamp_ms]),
          [
            ["inbound", 0],
            ["outbound", 0],
          ],
        );

        const refused = (await runScript(dir, oneWay.webhookUrl, { name: "one way", script: [{}] })).report.flows[0]!.turns![0]!;
        assert.deepEqual(
          refused.failures.map((failure) => `${failure.path}: ${failure.message}`),
          ["ws[0]: the stream is not bidirectional (bidirectional: false): agent audio is not played"],
        );
        assert.equal(refused.media!.first_audio_ms, null);
      });
    } finally {
      await Promise.all([both.close(), oneWay.close()]);
    }
  });
});

describe("media streams: load mode", () => {
  it("gives percentiles of the time to first audio over every media turn", async () => {
    const agent = await startAgentServer(vwhAgent({ endOfSpeechFrames: 10, reply: echo, clears: true, greeting: "Hi" }));
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "load.json");
        await writeFile(file, JSON.stringify({ version: 1, name: "load", script: [{}, { say: "hello" }] }));
        const options = simulationOptions(agent.webhookUrl, newSecret());
        const result = await runLoad([await loadFlow(file)], options, { calls: 2, concurrency: 1, rate: undefined }).finally(() => options.dispatcher.close());
        // Two calls, two media turns each: the greeting at 20 ms, the reply at 200 ms (HDR histogram: within 0.1%).
        const report = toJsonLoadReport(result, { ...runDescription(agent.webhookUrl), calls: 2, concurrency: 1, rate: undefined }, 0);
        assert.deepEqual(
          report.first_audio && { count: report.first_audio.count, p50: report.first_audio.p50_ms, max: Math.round(report.first_audio.max_ms) },
          { count: 4, p50: 20, max: 200 },
        );
        assert.match(
          formatLoadSummary(result, { ...runDescription(agent.webhookUrl), calls: 2, concurrency: 1, rate: undefined }, new Chalk({ level: 0 })),
          /1st audio p50 20 ms .* max 200(\.\d)? ms  \(4 media turns\)/,
        );
      });
    } finally {
      await agent.close();
    }
  });
});

describe("media streams: load mode failures", () => {
  it("counts streamed turns apart, with their failures by kind and samples naming the step and the expectation", async () => {
    const agent = await startAgentServer(vwhAgent({ endOfSpeechFrames: 10, reply: echo, clears: true, greeting: "Hi" }));
    try {
      await withTempDir(async (dir) => {
        const file = join(dir, "load.json");
        // The reply's first audio comes at 200 ms: over this step's 100.
        await writeFile(file, JSON.stringify({ version: 1, name: "load", script: [{}, { say: "hello", expect: { first_audio_ms: 100 } }] }));
        const options = simulationOptions(agent.webhookUrl, newSecret());
        const result = await runLoad([await loadFlow(file)], options, { calls: 2, concurrency: 1, rate: undefined }).finally(() => options.dispatcher.close());
        const run = { ...runDescription(agent.webhookUrl), calls: 2, concurrency: 1, rate: undefined };
        const report = toJsonLoadReport(result, run, 1);
        assert.deepEqual(report.streams, { total: 4, failed: 2, failures_by_kind: { expect: 2 } });
        const sample = report.failure_samples.find((entry) => entry.source === "stream")!;
        assert.deepEqual([sample.step, sample.step_label, sample.expectation], [2, 'say "hello"', "first_audio_ms"]);
        const text = formatLoadSummary(result, run, new Chalk({ level: 0 }));
        assert.match(text, /^streams {3}4 · 2 failed$/m);
        assert.match(text, /streams: expect 2/);
        assert.match(text, /call_\S+ stream step 2 \(say "hello"\): first_audio_ms: expected the agent's first audio within 100 ms, got 200 ms/);
      });
    } finally {
      await agent.close();
    }
  });
});

describe("media streams: agents that get it wrong", () => {
  const servers: AgentServer[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));
  const start = async (agent: Agent, instruction?: Record<string, unknown>) => {
    const server = await startAgentServer(agent, instruction);
    servers.push(server);
    return server;
  };

  it("fails first_audio_ms for an agent slow to answer, with the figure", async () => {
    const slow = await start(vwhAgent({ endOfSpeechFrames: 35, reply: echo, clears: true, greeting: "Hi" }));
    await withTempDir(async (dir) => {
      const { report, result } = await runScript(dir, slow.webhookUrl, { name: "slow", script: [{}, { say: "hello", expect: { first_audio_ms: 500 } }] });
      const turn = report.flows[0]!.turns![1]!;
      assert.equal(turn.media!.first_audio_ms, 700);
      assert.deepEqual(turn.failures, [{ kind: "expect", path: "first_audio_ms", message: "expected the agent's first audio within 500 ms, got 700 ms" }]);
      assert.equal(result.flows[0]!.passed, false);
      assert.equal(formatTurnMedia(result.flows[0]!.turns![1]!.media!), "stream vwh · first audio 700 ms · agent audio 400 ms · marks 1 sent, 1 acknowledged");
    });
  });

  it("catches an agent that keeps talking when the caller interrupts (no clear)", async () => {
    const deaf = await start(
      vwhAgent({ endOfSpeechFrames: 10, reply: () => synthesizeSpeech("one two three four five six", 8000), clears: false, greeting: "Hi" }),
    );
    await withTempDir(async (dir) => {
      const { report } = await runScript(dir, deaf.webhookUrl, {
        name: "deaf",
        script: [{}, { say: "hello" }, { interrupt: "stop", after_ms: 200, expect: { stops_on_interrupt: true } }],
      });
      const turn = report.flows[0]!.turns![2]!;
      assert.equal(turn.media!.stops_on_interrupt, false);
      assert.deepEqual(turn.failures, [
        { kind: "expect", path: "stops_on_interrupt", message: "expected the agent to stop (clear) when the caller interrupted, but it kept talking" },
      ]);
    });
  });

  it("names each malformed message by its path", async () => {
    const broken = await start((socket) =>
      socket.once("message", (data: Buffer) => {
        const streamId = (JSON.parse(data.toString("utf8")) as VwhMessage).stream_id;
        socket.send(JSON.stringify({ event: "dance", stream_id: streamId }));
        socket.send(JSON.stringify({ event: "clear", stream_id: "str_other" }));
        socket.send(JSON.stringify({ event: "media", stream_id: streamId, media: { payload: "not base64!" } }));
        socket.send(JSON.stringify({ event: "media", stream_id: streamId, media: { payload: Buffer.alloc(100, 0xff).toString("base64") } }));
        socket.send("hello");
        socket.send(Buffer.alloc(160), { binary: true });
        socket.send(JSON.stringify({ event: "mark", stream_id: streamId, mark: {} }));
        // Then 20 ms of valid audio, so the turn ends once it has played (not at the 5 s reply window).
        socket.send(JSON.stringify({ event: "media", stream_id: streamId, media: { payload: Buffer.alloc(160, 0xff).toString("base64") } }));
      }),
    );
    await withTempDir(async (dir) => {
      const { report } = await runScript(dir, broken.webhookUrl, { name: "broken", script: [{}] });
      const turn = report.flows[0]!.turns![0]!;
      assert.deepEqual(
        turn.failures.map((failure) => `${failure.path}: ${failure.message}`),
        [
          'ws[0].event: unknown event "dance" (expected media, mark, clear)',
          'ws[1].stream_id: expected "' + String((broken.received[0] as VwhMessage).stream_id) + '" (the stream\'s id), got "str_other"',
          "ws[2].media.payload: malformed base64",
          "ws[3].media.payload: expected whole 20 ms frames (a multiple of 160 bytes of μ-law), got 100 bytes",
          'ws[4]: expected a JSON message, got "hello"',
          "ws[5]: expected a text frame with a JSON message, got a binary frame",
          "ws[6].mark.name: expected a non-empty string, got nothing",
        ],
      );
      assert.equal(turn.media!.agent_audio_ms, 20);
    });
  });

  it("reports a stream it cannot open, or will not follow, on the turn that asked for it", async () => {
    const refused = await start(() => {}, { url: "ws://127.0.0.1:1/media" });
    const elsewhere = await start(() => {}, { url: "wss://agent.example.com/media" });
    await withTempDir(async (dir) => {
      const first = (await runScript(dir, refused.webhookUrl, { name: "refused", script: [{}] })).report.flows[0]!.turns![0]!;
      assert.equal(first.failures[0]!.kind, "network");
      assert.match(first.failures[0]!.message, /^could not open the media stream ws:\/\/127\.0\.0\.1:1\/media: ECONNREFUSED/);
      assert.equal(first.failures[0]!.path, "instructions[0]");
      const second = (await runScript(dir, elsewhere.webhookUrl, { name: "elsewhere", script: [{}] })).report.flows[0]!.turns![0]!;
      assert.match(second.failures[0]!.message, /^not followed: the stream URL agent\.example\.com is not the handler's host/);
    });
  });
});

describe("media streams: the bundled agent scenario", () => {
  it("fixtures/scripts/vwh-media-agent.json passes against examples/media-agent.js, speaking the bundled clips", async () => {
    const secret = newSecret();
    const { createVoiceHandler } = await loadExampleHandler();
    const { attachMediaAgent } = (await import(pathToFileURL(join(repoRoot, "examples", "media-agent.js")).href)) as {
      attachMediaAgent(server: Server): { close(): void };
    };
    const server = createServer(createVoiceHandler({ secrets: [secret] }));
    const sockets = attachMediaAgent(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/voice`;
      const { report } = await runFlowFile(fixture("scripts/vwh-media-agent.json"), url, secret);
      const turns = report.flows[0]!.turns!;
      assert.ok(report.flows[0]!.passed, JSON.stringify(turns));
      // The agent answers 300 ms (15 silent frames) after the caller stops; its greeting at once.
      assert.deepEqual(
        turns.map((turn) => turn.media?.first_audio_ms ?? null),
        [20, 300, 300, null],
      );
      assert.equal(turns[2]!.media!.stops_on_interrupt, true);
      assert.deepEqual(
        turns.map((turn) => turn.media?.agent_audio_ms ?? null),
        [400, 800, 800, null],
      );
    } finally {
      sockets.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
