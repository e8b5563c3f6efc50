/**
 * Media streams on vwh's own protocol (issue 17), end to end and in-process: a webhook handler answers
 * with a `stream` instruction, vwh opens the socket, speaks the script, and measures the agent — on a
 * fake clock, so every figure below is exact.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { WebSocket } from "ws";
import { decode, encode, synthesizeSpeech } from "../src/media/audio.js";
import { withTempDir } from "./helpers.js";
import { runScript, startAgentServer, turnTaker, type Agent, type AgentServer } from "./media-agents.js";

const mulaw = { encoding: "mulaw", sampleRate: 8000 } as const;

interface VwhMessage {
  event: string;
  stream_id: string;
  media?: { payload: string; track: string; timestamp_ms: number };
  dtmf?: { digit: string };
  mark?: { name: string };
}

/** A vwh-protocol agent: greets, then answers each utterance after `endOfSpeechFrames` of silence. */
function vwhAgent(options: { endOfSpeechFrames: number; reply: (heard: Int16Array[]) => Int16Array; clears: boolean; onDigit?: (socket: WebSocket, streamId: string, digit: string) => void }): Agent {
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
        say(synthesizeSpeech("Hello, how can I help?", 8000));
      }
      if (message.event === "media" && message.media!.track === "inbound") listen(decode(Buffer.from(message.media!.payload, "base64"), mulaw));
      if (message.event === "dtmf") options.onDigit?.(socket, streamId, message.dtmf!.digit);
    });
  };
}

const echo = (heard: Int16Array[]) => Int16Array.from(heard.flatMap((frame) => [...frame]));

describe("media streams: vwh protocol", () => {
  let echoAgent: AgentServer;
  before(async () => {
    echoAgent = await startAgentServer(vwhAgent({ endOfSpeechFrames: 10, reply: echo, clears: true, onDigit: (socket) => socket.close(1000, "transferred") }));
  });
  after(() => echoAgent.close());

  it("streams the script as 20 ms μ-law frames and measures an echoing agent turn by turn", () =>
    withTempDir(async (dir) => {
      const { result, report } = await runScript(dir, echoAgent.webhookUrl, {
        name: "echo",
        script: [
          { expect: { actions: ["stream"], first_audio_ms: 100 } },
          { say: "I would like to change my appointment please", expect: { first_audio_ms: 250 } },
          { interrupt: "wait a moment", expect: { stops_on_interrupt: true } },
          { say: "thanks" },
        ],
      });
      const turns = report.flows[0]!.turns!;
      assert.deepEqual(turns.map((turn) => [turn.label, turn.passed]), [
        ["connect", true],
        ['say "I would like to change my appointment..."', true],
        ['interrupt "wait a moment"', true],
        ['say "thanks"', true],
        ["hangup (script ran out)", true],
      ]);
      // The greeting arrives in answer to start: one 20 ms step later. Each reply comes after the agent's
      // 10 silent frames (200 ms) of end-of-speech detection.
      assert.deepEqual(turns.map((turn) => turn.media?.first_audio_ms ?? null), [20, 200, 200, 200, null]);
      // Echoes are as long as the speech: 8 words × 400 ms, "thanks" 300 ms; the greeting 5 words.
      assert.equal(turns[0]!.media!.agent_audio_ms, 2000);
      assert.equal(turns[1]!.media!.agent_audio_ms, 3200);
      assert.equal(turns[2]!.media!.stops_on_interrupt, true);
      assert.deepEqual(turns[0]!.media!.marks, { sent: 1, acknowledged: 1 });
      assert.equal(result.flows[0]!.passed, true);
      // What the agent got: start, then only whole 20 ms frames with rising timestamps, then stop.
      const received = echoAgent.received as VwhMessage[];
      assert.equal(received[0]!.event, "start");
      const media = received.filter((message) => message.event === "media");
      assert.ok(media.every((message) => Buffer.from(message.media!.payload, "base64").length === 160));
      assert.deepEqual(media.slice(0, 3).map((message) => message.media!.timestamp_ms), [0, 20, 40]);
      assert.equal(received.at(-1)!.event, "stop");
      assert.ok(received.every((message) => message.stream_id === received[0]!.stream_id));
    }));
});
