/**
 * The platforms' media message sets (issue 17) at the engine's seam: playStream with the move a
 * platform driver emits (protocol twilio-media, twilio-relay, teler, vonage), against local ws agents
 * that speak each set, on a fake clock with the lockstep on.
 */
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import type { WebSocket } from "ws";
import type { Finding } from "../../src/core/findings.js";
import { decode, encode, frames, synthesizeSpeech, type AudioFormat } from "../../src/media/audio.js";
import { checkMedia, type StreamScript, type StreamStep, type TurnMedia } from "../../src/media/script.js";
import type { MediaProtocolLoader } from "../../src/media/protocol.js";
import { playStreamWith, socketUrl } from "../../src/media/stream.js";
import { callerInput, type ScriptStep } from "../../src/files/caller-script.js";
import type { StreamEnd } from "../../src/platforms/types.js";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import twilio from "twilio";
import { WebSocketServer } from "ws";
import { callFlowSchema } from "../../src/files/call-flow.js";
import { runSimulation } from "../../src/engine/run.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { getScheme } from "../../src/signing/index.js";
import { engineOptions } from "../engine-helpers.js";
import { newSecret } from "../helpers.js";
import { fakeClock, startAgentServer, turnTaker, type Agent, type AgentServer } from "../media-agents.js";

interface Played {
  end: StreamEnd;
  turns: { media: TurnMedia | undefined; findings: Finding[] }[];
}

/** Plays `steps` on a stream as the engine would, keeping each turn's figures and findings. */
/** Every message set vwh has, by protocol (Teler's included, which calls do not play yet). */
const messageSets: Record<string, MediaProtocolLoader> = {
  vwh: () => import("../../src/platforms/vwh/media.js"),
  "twilio-media": () => import("../../src/platforms/twilio/media.js"),
  "twilio-relay": () => import("../../src/platforms/twilio/relay.js"),
  teler: () => import("../../src/platforms/teler/media.js"),
  vonage: () => import("../../src/platforms/vonage/media.js"),
};

async function play(
  server: AgentServer,
  protocol: string,
  steps: ScriptStep[],
  extra: { headers?: Record<string, string>; parameters?: Record<string, string>; settings?: Record<string, string> } = {},
): Promise<Played> {
  const turns: Played["turns"] = [{ media: undefined, findings: [] }];
  let index = 0;
  const stepAt = (at: number): StreamStep | undefined => {
    const step = steps[at];
    return step && { input: callerInput(step), afterMs: step.after_ms, audio: undefined, firstAudioLimitMs: undefined };
  };
  const script: StreamScript = {
    upcoming: () => stepAt(index),
    record: (media, findings) => {
      const turn = turns.at(-1)!;
      turn.media = media ?? turn.media;
      turn.findings.push(...findings);
    },
    advance: () => {
      turns.push({ media: undefined, findings: [] });
      return stepAt(index++);
    },
  };
  const clock = fakeClock();
  const end = await playStreamWith(
    messageSets[protocol]!,
    {
      url: new URL(server.streamUrl),
      protocol,
      headers: extra.headers ?? {},
      parameters: extra.parameters ?? {},
      ...(extra.settings && { settings: extra.settings }),
      path: "Response/Connect[1]/Stream[1]",
    },
    script,
    {
      callId: "CA0123",
      newId: (prefix) => `${prefix}_1`,
      clock: { ...clock, lockstep: true },
      target: new URL(server.webhookUrl),
      publicUrl: undefined,
      firstAudioLimitMs: undefined,
      connectTimeoutMs: 5000,
      signUpgrade: undefined,
    },
  );
  return { end, turns };
}

interface TwilioMessage {
  event: string;
  streamSid?: string;
  sequenceNumber?: string;
  start?: { streamSid: string; callSid: string; accountSid: string; customParameters: Record<string, string>; mediaFormat: unknown; tracks: string[] };
  media?: { payload: string; chunk: string; timestamp: string; track: string };
  mark?: { name: string };
  stop?: { callSid: string };
}
/** A Twilio Media Streams agent: greets, answers 200 ms after the caller stops, clears on barge-in, answers a key. */
const twilioAgent: Agent = (socket: WebSocket) => {
  let streamSid = "";
  const say = (samples: Int16Array, mark: string) => {
    // Twilio takes any length of μ-law: the reply goes out as one message.
    socket.send(JSON.stringify({ event: "media", streamSid, media: { payload: encode(samples, mulaw).toString("base64") } }));
    socket.send(JSON.stringify({ event: "mark", streamSid, mark: { name: mark } }));
  };
  const listen = turnTaker(
    10,
    () => say(synthesizeSpeech("one two three", 8000), "reply"),
    () => socket.send(JSON.stringify({ event: "clear", streamSid })),
  );
  socket.on("message", (data: Buffer) => {
    const message = JSON.parse(data.toString("utf8")) as TwilioMessage;
    if (message.event === "start") {
      streamSid = message.streamSid!;
      say(synthesizeSpeech("Hi", 8000), "greeting");
    }
    if (message.event === "media") listen(decode(Buffer.from(message.media!.payload, "base64"), mulaw));
    if (message.event === "dtmf") say(synthesizeSpeech("Connecting", 8000), "menu");
  });
};

const firstAudio = (played: Played) => played.turns.map((turn) => turn.media?.firstAudioMs ?? null);
const mulaw: AudioFormat = { encoding: "mulaw", sampleRate: 8000 };

describe("the media expectations", () => {
  const media: TurnMedia = {
    protocol: "twilio-relay",
    measures: "token",
    firstAudioMs: 900,
    agentAudioMs: 1200,
    stoppedOnInterrupt: undefined,
    marks: { sent: 0, acknowledged: 0 },
  };
  it("say what was missing: no stream, no reply, no interruption, a slow first token", () => {
    const messages = (expect: Parameters<typeof checkMedia>[0], figures: TurnMedia | undefined) =>
      checkMedia(expect, figures).map((finding) => `${finding.path}: ${finding.message}`);
    assert.deepEqual(messages({ first_audio_ms: 500, stops_on_interrupt: true }, undefined), [
      "first_audio_ms: expected agent audio within 500 ms, but the turn had no media stream",
      "stops_on_interrupt: expected an interruption on the media stream, but the caller did not talk over the agent in this turn",
    ]);
    assert.deepEqual(messages({ first_audio_ms: 500 }, media), ["first_audio_ms: expected the agent's first token within 500 ms, got 900 ms"]);
    assert.deepEqual(messages({ first_audio_ms: 500 }, { ...media, firstAudioMs: undefined }), [
      "first_audio_ms: expected the agent's first token within 500 ms, got none",
    ]);
    assert.deepEqual(messages({ stops_on_interrupt: false }, { ...media, stoppedOnInterrupt: true }), [
      "stops_on_interrupt: expected the agent to keep talking, but it stopped when interrupted",
    ]);
    assert.deepEqual(messages({ first_audio_ms: 900, stops_on_interrupt: true }, { ...media, stoppedOnInterrupt: true }), []);
  });
});

describe("where vwh connects for a stream URL", () => {
  it("maps the public host onto --url's (ws for http, wss for https), keeps loopback, follows nothing else", () => {
    const options = { target: new URL("http://127.0.0.1:3000/webhooks/voice"), publicUrl: new URL("https://abc.ngrok.app/webhooks/voice") };
    assert.equal(socketUrl(new URL("wss://abc.ngrok.app/media?x=1"), options)?.href, "ws://127.0.0.1:3000/media?x=1");
    assert.equal(socketUrl(new URL("ws://localhost:8080/agent"), options)?.href, "ws://localhost:8080/agent");
    assert.equal(socketUrl(new URL("wss://agent.example.com/media"), options), undefined);
    assert.equal(
      socketUrl(new URL("wss://h.example/media"), { target: new URL("https://h.example/hook"), publicUrl: undefined })?.href,
      "wss://h.example/media",
    );
  });
});

describe("media message sets", () => {
  const servers: AgentServer[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));
  const start = async (agent: Agent) => {
    const server = await startAgentServer(agent);
    servers.push(server);
    return server;
  };

  it("twilio-media: connected + start with the call's fields, chunked media, dtmf, marks echoed, clear, stop", async () => {
    const server = await start(twilioAgent);
    const played = await play(server, "twilio-media", [{ say: "hello" }, { interrupt: "hold on" }, { press: "1" }, { hangup: true }], {
      headers: { "x-twilio-signature": "c2lnbmF0dXJl" },
      parameters: { accountSid: "AC0000", callSid: "CA0123", track: "inbound_track", customer: "42" },
    });
    assert.deepEqual(played.end, { kind: "caller_hangup" });
    assert.equal(server.handshakes[0]!["x-twilio-signature"], "c2lnbmF0dXJl");
    // The DTMF reply comes as the key's message is read: one 20 ms step after it.
    assert.deepEqual(firstAudio(played), [20, 200, 200, 20, null]);
    assert.equal(played.turns[2]!.media!.stoppedOnInterrupt, true);
    assert.deepEqual(played.turns[0]!.media!.marks, { sent: 1, acknowledged: 1 });
    // The interrupted reply's mark comes back with the clear; the next reply's once played.
    assert.deepEqual(played.turns[2]!.media!.marks, { sent: 1, acknowledged: 2 });
    assert.ok(
      played.turns.every((turn) => turn.findings.length === 0),
      JSON.stringify(played.turns),
    );
    const received = server.received as TwilioMessage[];
    assert.deepEqual(received[0], { event: "connected", protocol: "Call", version: "1.0.0" });
    const startMessage = received[1]!;
    assert.equal(startMessage.event, "start");
    assert.match(startMessage.streamSid!, /^MZ[0-9a-f]{32}$/);
    assert.deepEqual(
      { ...startMessage.start!, streamSid: undefined },
      {
        accountSid: "AC0000",
        streamSid: undefined,
        callSid: "CA0123",
        tracks: ["inbound"],
        customParameters: { customer: "42" },
        mediaFormat: { encoding: "audio/x-mulaw", sampleRate: 8000, channels: 1 },
      },
    );
    const media = received.filter((message) => message.event === "media");
    assert.deepEqual(
      media.slice(0, 2).map((message) => [message.media!.chunk, message.media!.timestamp, message.media!.track]),
      [
        ["1", "0", "inbound"],
        ["2", "20", "inbound"],
      ],
    );
    assert.ok(media.every((message) => Buffer.from(message.media!.payload, "base64").length === 160));
    assert.deepEqual(
      received.filter((message) => message.event === "mark").map((message) => message.mark!.name),
      ["greeting", "reply", "reply", "menu"],
    );
    assert.ok(received.some((message) => message.event === "dtmf"));
    assert.deepEqual(received.at(-1), {
      event: "stop",
      sequenceNumber: received.at(-1)!.sequenceNumber,
      streamSid: startMessage.streamSid,
      stop: { accountSid: "AC0000", callSid: "CA0123" },
    });
    assert.deepEqual(received.map((message) => Number(message.sequenceNumber ?? 0)).slice(1, 4), [1, 2, 3]);
  });

  it("twilio-media: a wrong streamSid and a bad payload are findings", async () => {
    const server = await start((socket) =>
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { event: string; streamSid: string };
        if (message.event !== "start") return;
        socket.send(JSON.stringify({ event: "media", streamSid: "MZ00", media: { payload: "AAAA" } }));
        socket.send(JSON.stringify({ event: "media", streamSid: message.streamSid, media: { payload: "%%%%" } }));
        socket.send(JSON.stringify({ event: "play", streamSid: message.streamSid }));
        socket.send(JSON.stringify({ event: "media", streamSid: message.streamSid, media: { payload: "/////w==" } }));
      }),
    );
    const played = await play(server, "twilio-media", []);
    assert.deepEqual(
      played.turns[0]!.findings.map((finding) => finding.path),
      ["ws[0].streamSid", "ws[1].media.payload", "ws[2].event"],
    );
  });

  it("teler: start, L16 audio messages; audio_b64 and chunk_id checked; no DTMF", async () => {
    const l16: AudioFormat = { encoding: "l16", sampleRate: 8000 };
    const server = await start((socket) => {
      let chunk = 0;
      const listen = turnTaker(10, (heard) => {
        for (const frame of heard) socket.send(JSON.stringify({ type: "audio", audio_b64: encode(frame, l16).toString("base64"), chunk_id: ++chunk }));
      });
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { type: string; data: { audio_b64: string } };
        if (message.type === "audio") listen(decode(Buffer.from(message.data.audio_b64, "base64"), l16));
        if (message.type === "start") socket.send(JSON.stringify({ type: "audio", audio_b64: "AA==", chunk_id: 0 }));
      });
    });
    const played = await play(server, "teler", [{ say: "hello" }, { press: "5" }], { parameters: { sample_rate: "8k" } });
    const startMessage = server.received[0] as { type: string; call_id: string; data: unknown };
    assert.equal(startMessage.type, "start");
    assert.equal(startMessage.call_id, "CA0123");
    assert.deepEqual(startMessage.data, { encoding: "audio/l16", sample_rate: 8000, channels: 1 });
    const audio = server.received[1] as { data: { audio_b64: string } };
    assert.equal(Buffer.from(audio.data.audio_b64, "base64").length, 320);
    assert.deepEqual(
      played.turns[0]!.findings.map((finding) => `${finding.path}: ${finding.message}`),
      ["ws[0].audio_b64: expected 16-bit samples (an even number of bytes), got 1 bytes"],
    );
    assert.equal(played.turns[1]!.media!.firstAudioMs, 200);
    assert.equal(played.turns[1]!.media!.agentAudioMs, 400);
    assert.deepEqual(
      played.turns[2]!.findings.map((finding) => finding.message),
      ["the teler stream has no DTMF messages: the key press cannot be sent"],
    );
  });

  it("vonage: websocket:connected, 640-byte binary frames at 16 kHz, notify and clear answered, wrong sizes caught", async () => {
    const l16: AudioFormat = { encoding: "l16", sampleRate: 16000 };
    const server = await start((socket) => {
      const reply = () => {
        for (const frame of frames(synthesizeSpeech("one two three", 16000), l16)) socket.send(encode(frame, l16), { binary: true });
        socket.send(JSON.stringify({ action: "notify", payload: { turn: 1 } }));
      };
      const listen = turnTaker(10, reply, () => socket.send(JSON.stringify({ action: "clear" })));
      socket.on("message", (data: Buffer, binary: boolean) => {
        if (binary) return listen(decode(data, l16));
        socket.send(Buffer.alloc(100), { binary: true });
        socket.send(JSON.stringify({ action: "dance" }));
      });
    });
    const played = await play(server, "vonage", [{ say: "hello" }, { interrupt: "wait" }], {
      parameters: { "content-type": "audio/l16;rate=16000", "x-caller": "+15550100001" },
    });
    assert.deepEqual(server.received[0], { event: "websocket:connected", "content-type": "audio/l16;rate=16000", "x-caller": "+15550100001" });
    assert.ok(server.received.slice(1, 5).every((frame) => Buffer.isBuffer(frame) && frame.length === 640));
    assert.deepEqual(
      played.turns[0]!.findings.map((finding) => `${finding.path}: ${finding.message}`),
      ["ws[0]: expected a 20 ms frame of 16 kHz L16 (640 bytes), got 100 bytes", 'ws[1].action: unknown action "dance" (expected clear, notify)'],
    );
    assert.equal(played.turns[1]!.media!.firstAudioMs, 200);
    assert.equal(played.turns[2]!.media!.stoppedOnInterrupt, true);
    const texts = server.received.filter((frame): frame is { event: string } => !Buffer.isBuffer(frame) && typeof frame === "object");
    assert.deepEqual(
      texts.map((frame) => frame.event),
      ["websocket:connected", "websocket:cleared", "websocket:cleared", "websocket:notify"],
    );
  });

  it("twilio-relay: setup, prompts and interrupt; time to first token; invalid messages answered with error", async () => {
    const server = await start((socket) =>
      socket.on("message", (data: Buffer) => {
        const message = JSON.parse(data.toString("utf8")) as { type: string; voicePrompt?: string };
        if (message.type === "setup") socket.send(JSON.stringify({ type: "text", token: "Hello there, how can I help you today?", last: true }));
        if (message.type === "prompt") {
          for (const token of ["You ", "said ", message.voicePrompt!]) socket.send(JSON.stringify({ type: "text", token, last: false }));
          socket.send(JSON.stringify({ type: "text", token: "", last: true }));
          socket.send(JSON.stringify({ type: "txt", token: "oops" }));
        }
        if (message.type === "dtmf") socket.send(JSON.stringify({ type: "end", handoffData: '{"reason":"agent"}' }));
      }),
    );
    const played = await play(server, "twilio-relay", [{ say: "book a table for two" }, { interrupt: "actually three" }, { press: "0" }], {
      parameters: { from: "+15550100001", to: "+15550100002", table: "7" },
      settings: { dtmfDetection: "true" },
    });
    assert.deepEqual(played.end, { kind: "closed_by_agent", handoffData: '{"reason":"agent"}' });
    const setup = server.received[0] as Record<string, unknown>;
    assert.equal(setup["type"], "setup");
    assert.match(String(setup["sessionId"]), /^VX[0-9a-f]{32}$/);
    assert.deepEqual([setup["callSid"], setup["from"], setup["customParameters"]], ["CA0123", "+15550100001", { table: "7" }]);
    assert.deepEqual(firstAudio(played), [20, 20, 20, null]);
    assert.equal(played.turns[0]!.media!.measures, "token");
    assert.equal(played.turns[2]!.media!.stoppedOnInterrupt, true);
    const sent = server.received as { type: string; voicePrompt?: string; utteranceUntilInterrupt?: string; description?: string }[];
    assert.deepEqual(
      sent.filter((message) => message.type === "prompt").map((message) => message.voicePrompt),
      ["book a table for two", "actually three"],
    );
    const interrupt = sent.find((message) => message.type === "interrupt")!;
    // 500 ms into a reply of 2.8 s ("You " 400, "said " 400, the prompt 2000): the first word.
    assert.equal(interrupt.utteranceUntilInterrupt, "You");
    assert.equal(
      sent.find((message) => message.type === "error")!.description,
      'Invalid message received: ws[5].type: unknown type "txt" (expected text, play, sendDigits, language, end)',
    );
    assert.deepEqual(
      played.turns[1]!.findings.map((finding) => finding.path),
      ["ws[5].type"],
    );
  });
});

describe("the Twilio platform end to end: <Connect><Stream>", () => {
  it("vwh fetches the TwiML, opens the stream signed with X-Twilio-Signature over the wss URL, and measures the agent", async () => {
    const token = randomBytes(16).toString("hex");
    let signatureValid = false;
    let streamUrl = "";
    // The handler's TwiML streams every call to its own /media, where the Twilio agent answers.
    const server = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        response
          .writeHead(200, { "content-type": "text/xml" })
          .end(`<Response><Connect><Stream url="${streamUrl}"><Parameter name="customer" value="42"/></Stream></Connect></Response>`);
      });
    });
    const sockets = new WebSocketServer({ server, path: "/media" });
    sockets.on("connection", (socket, request) => {
      signatureValid = twilio.validateRequest(token, String(request.headers["x-twilio-signature"]), streamUrl, {});
      received.push(socket);
      twilioAgent(socket, request);
    });
    const received: WebSocket[] = [];
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    streamUrl = `ws://127.0.0.1:${port}/media`;
    const url = `http://127.0.0.1:${port}/twilio/voice`;
    const clock = fakeClock();
    const options = engineOptions(url, newSecret(), {
      signer: getScheme("twilio").create([{ value: token, source: "(test)" }], { purpose: "sign" }),
      signatureHeaders: ["x-twilio-signature"],
      now: clock.now,
      wait: clock.wait,
      mediaLockstep: true,
    });
    try {
      const flow = {
        file: "inline.json",
        platform: twilioPlatform,
        flow: callFlowSchema.parse({
          version: 1,
          platform: "twilio",
          name: "stream",
          call: { from: "+15550100001", to: "+15550100400" },
          script: [{ expect: { actions: ["stream"], first_audio_ms: 100 } }, { say: "hello", expect: { first_audio_ms: 250 } }],
        }),
      };
      const result = await runSimulation([flow], options);
      const turns = result.flows[0]!.turns!;
      assert.ok(result.flows[0]!.passed, JSON.stringify(turns));
      assert.equal(signatureValid, true, "the official twilio library verifies the upgrade's signature");
      assert.deepEqual(
        turns.map((turn) => turn.media?.firstAudioMs ?? null),
        [20, 200, null],
      );
      assert.equal(turns[0]!.media!.protocol, "twilio-media");
    } finally {
      await options.dispatcher.close();
      for (const socket of sockets.clients) socket.terminate();
      sockets.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
