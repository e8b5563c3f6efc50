/**
 * Twilio ConversationRelay at full fidelity (issue 28): the Twilio platform end to end in process, on a
 * fake clock with the media lockstep on, against small relay agents — the agent's text in `says` and the
 * reports, a reply without `last: true`, DTMF only with dtmfDetection, setup's parties and parameters,
 * language switches, interruptible / preemptible, the welcome greeting, sendDigits / play / end.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { WebSocketServer, type WebSocket } from "ws";
import { callFlowSchema } from "../../src/files/call-flow.js";
import { runSimulation } from "../../src/engine/run.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { createProtocol } from "../../src/platforms/twilio/relay.js";
import { speechMs } from "../../src/platforms/shared/timing.js";
import { toJsonReport } from "../../src/ui/simulate-report.js";
import { toJUnitXml } from "../../src/ui/junit.js";
import { engineOptions } from "../engine-helpers.js";
import { newSecret } from "../helpers.js";
import { fakeClock, runDescription } from "../media-agents.js";

type Message = Record<string, unknown> & { type: string };
type RelayAgent = (socket: WebSocket, send: (message: Record<string, unknown>) => void, message: Message) => void;

/** Serves `<Connect action="/after"><ConversationRelay …>` and the relay socket; runs `script` against it. */
async function runRelay(
  attributes: string,
  parameters: string,
  agent: RelayAgent,
  script: unknown[],
  call: Record<string, unknown> = { from: "+15550100001", to: "+15550100400" },
) {
  const received: Message[] = [];
  const connectActions: URLSearchParams[] = [];
  let wsUrl = "";
  const server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (request.url?.startsWith("/after")) {
        connectActions.push(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
        response.writeHead(200, { "content-type": "text/xml" }).end("<Response><Hangup/></Response>");
        return;
      }
      response
        .writeHead(200, { "content-type": "text/xml" })
        .end(`<Response><Connect action="/after"><ConversationRelay url="${wsUrl}" ${attributes}>${parameters}</ConversationRelay></Connect></Response>`);
    });
  });
  const sockets = new WebSocketServer({ server, path: "/relay" });
  sockets.on("connection", (socket) => {
    const send = (message: Record<string, unknown>) => socket.send(JSON.stringify(message));
    socket.on("message", (data: Buffer) => {
      const message = JSON.parse(data.toString("utf8")) as Message;
      received.push(message);
      agent(socket, send, message);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  wsUrl = `ws://127.0.0.1:${port}/relay`;
  const url = `http://127.0.0.1:${port}/twilio/voice`;
  const clock = fakeClock();
  const options = engineOptions(url, newSecret(), { now: clock.now, wait: clock.wait, mediaLockstep: true });
  try {
    const flow = { file: "inline.json", platform: twilioPlatform, flow: callFlowSchema.parse({ version: 1, platform: "twilio", name: "relay", call, script }) };
    const result = await runSimulation([flow], options);
    return { result, turns: result.flows[0]!.turns!, received, connectActions, report: toJsonReport(result, runDescription(url), 0) };
  } finally {
    await options.dispatcher.close();
    for (const socket of sockets.clients) socket.terminate();
    sockets.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

const messages = (turn: { failures: { path?: string | undefined; message: string }[] }) =>
  turn.failures.map((finding) => `${finding.path ?? ""}: ${finding.message}`);

describe("ConversationRelay: the agent's text", () => {
  it("is what `says` matches and every report shows: a token sent twice shows twice", async () => {
    const { turns, report, result } = await runRelay(
      "",
      "",
      (_socket, send, message) => {
        if (message.type !== "prompt") return;
        for (const token of ["We ", "We ", "are ", "are ", "open."]) send({ type: "text", token, last: false });
        send({ type: "text", token: "", last: true });
      },
      [{ say: "are you open", expect: { says: { contains: "We are open" } } }],
    );
    assert.equal(turns[1]!.says, "We We are are open.");
    assert.deepEqual(messages(turns[1]!), ['says: expected to contain "We are open", got "We We are are open."']);
    const jsonTurn = report.flows[0]!.turns![1]!;
    assert.equal(jsonTurn.says, "We We are are open.");
    assert.deepEqual((jsonTurn.media as { llm?: { text: string; tokens: number } }).llm?.tokens, 6);
    assert.match(toJUnitXml(result), /says &quot;We We are are open.&quot;/);
  });

  it("is spoken in full without `last: true`: the turn ends when the stream goes quiet, no stall and no cut-off finding", async () => {
    const { turns, received } = await runRelay(
      "",
      "",
      (_socket, send, message) => {
        // The LLM's finish_reason comes in a chunk without text: such an app never sends last: true.
        if (message.type === "prompt") for (const token of ["Sure, ", "a table ", "for two."]) send({ type: "text", token });
      },
      [
        { say: "a table for two", expect: { says: "Sure, a table for two.", first_audio_ms: 100 } },
        { say: "thanks", expect: { says: { contains: "Sure" } } },
      ],
    );
    assert.deepEqual(turns.map(messages), [[], [], [], []]);
    assert.deepEqual(
      received.filter((message) => message.type === "prompt").map((message) => message.voicePrompt),
      ["a table for two", "thanks"],
    );
  });
});

describe("ConversationRelay: the element and the setup message", () => {
  it("setup carries from/to and only the <Parameter>s as customParameters; dtmf only with dtmfDetection", async () => {
    const off = await runRelay('language="en-GB" welcomeGreeting="Hi"', '<Parameter name="customer" value="42"/>', () => {}, [{ press: "1" }]);
    const setup = off.received[0]!;
    assert.deepEqual([setup["from"], setup["to"], setup["direction"]], ["+15550100001", "+15550100400", "inbound"]);
    assert.deepEqual(setup["customParameters"], { customer: "42" });
    assert.equal(off.received.filter((message) => message.type === "dtmf").length, 0);
    assert.match(messages(off.turns[1]!).join(), /dtmfDetection="true"/);
    const on = await runRelay(
      'dtmfDetection="true"',
      "",
      (_socket, send, message) => {
        if (message.type === "dtmf") send({ type: "text", token: `You pressed ${String(message["digit"])}.`, last: true });
      },
      [{ press: "1", expect: { says: "You pressed 1." } }],
    );
    assert.deepEqual(
      on.received.filter((message) => message.type === "dtmf").map((message) => message["digit"]),
      ["1"],
    );
    assert.deepEqual(on.turns.map(messages), [[], [], []]);
  });

  it("plays the welcomeGreeting on the connect turn (its speaking time, in `says`), without waiting out the reply window", async () => {
    const { turns, result } = await runRelay('welcomeGreeting="Welcome to Ada\'s bistro."', "", () => {}, [
      { expect: { says: "Welcome to Ada's bistro." } },
      { hangup: true },
    ]);
    assert.deepEqual(turns.map(messages), [[], []]);
    assert.equal(turns[0]!.media!.agentAudioMs, speechMs("Welcome to Ada's bistro."));
    // Platform time: the greeting (1.6 s) and the close, not the 5 s reply window.
    assert.ok(result.durationMs < 5_000, `${result.durationMs} ms of platform time`);
  });

  it("a language message changes the next prompt's lang", async () => {
    const { received } = await runRelay(
      'language="en-US"',
      "",
      (_socket, send, message) => {
        if (message.type === "prompt" && message.voicePrompt === "hola") send({ type: "language", ttsLanguage: "es-ES", transcriptionLanguage: "es-MX" });
        if (message.type === "prompt") send({ type: "text", token: "Vale.", last: true });
      },
      [{ say: "hola" }, { say: "una mesa" }],
    );
    assert.deepEqual(
      received.filter((message) => message.type === "prompt").map((message) => message["lang"]),
      ["en-US", "es-MX"],
    );
  });
});

describe("ConversationRelay: interruptions", () => {
  const longReply = "Our menu today has soup, bread, fish, rice and a lemon tart for dessert.";
  it("interruptible: false is honoured: no interrupt message, the caller's words over it are not reported", async () => {
    const { received, turns } = await runRelay(
      "",
      "",
      (_socket, send, message) => {
        if (message.type === "prompt" && message.voicePrompt === "menu") send({ type: "text", token: longReply, last: true, interruptible: false });
      },
      [{ say: "menu" }, { interrupt: "stop" }],
    );
    assert.equal(received.filter((message) => message.type === "interrupt").length, 0);
    assert.deepEqual(
      received.filter((message) => message.type === "prompt").map((message) => message.voicePrompt),
      ["menu"],
    );
    assert.equal(turns[2]!.media!.text!.notInterruptible, true);
  });

  it("interrupts an interruptible reply with a whole number of milliseconds", async () => {
    const { received } = await runRelay(
      "",
      "",
      (_socket, send, message) => {
        if (message.type === "prompt" && message.voicePrompt === "menu") send({ type: "text", token: longReply, last: true });
      },
      [{ say: "menu" }, { interrupt: "stop", after_ms: 700 }],
    );
    const interrupt = received.find((message) => message.type === "interrupt")!;
    assert.ok(Number.isInteger(interrupt["durationUntilInterruptMs"]));
    assert.equal(
      JSON.parse(
        createProtocol({
          request: { url: new URL("ws://x"), protocol: "twilio-relay", headers: {}, parameters: {}, path: "p" },
          callId: "CA1",
          newId: (p) => p,
        }).interrupt("Our", 460.4) as string,
      ).durationUntilInterruptMs,
      460,
    );
  });

  it("preemptible: a reply's next talk cycle cuts it only when it is preemptible", async () => {
    const cycles =
      (preemptible: boolean): RelayAgent =>
      (_socket, send, message) => {
        if (message.type !== "prompt") return;
        send({ type: "text", token: longReply, last: true, preemptible });
        send({ type: "text", token: "Anything else?", last: true });
      };
    const kept = await runRelay("", "", cycles(false), [{ say: "menu" }]);
    const cut = await runRelay("", "", cycles(true), [{ say: "menu" }]);
    // Queued behind the first cycle: both are spoken; preempted: the first is cut where the second began.
    assert.equal(kept.turns[1]!.media!.agentAudioMs, speechMs(`${longReply}Anything else?`));
    assert.equal(cut.turns[1]!.media!.agentAudioMs, speechMs(`${longReply}Anything else?`));
    assert.ok(cut.result.durationMs < kept.result.durationMs, `${cut.result.durationMs} < ${kept.result.durationMs}`);
  });
});

describe("ConversationRelay: sendDigits, play and end", () => {
  it("are expectable (actions, native) and shown in the reports; end's handoffData reaches <Connect action>", async () => {
    const { turns, connectActions, report } = await runRelay(
      "",
      "",
      (_socket, send, message) => {
        if (message.type !== "prompt") return;
        send({ type: "play", source: "https://example.com/hold.mp3" });
        send({ type: "sendDigits", digits: "1234#" });
        send({ type: "end", handoffData: '{"reason":"operator"}' });
      },
      [
        {
          say: "an operator please",
          expect: {
            actions: [{ type: "play", url: "https://example.com/hold.mp3" }, { type: "play", digits: "1234#" }, "hangup"],
            native: [{ path: "end.handoffData", contains: "operator" }],
            ends: "handler_hangup",
          },
        },
      ],
    );
    assert.deepEqual(turns.map(messages), [[], []]);
    assert.equal(connectActions[0]!.get("HandoffData"), '{"reason":"operator"}');
    const llm = (report.flows[0]!.turns![1]!.media as { llm: { plays: string[]; digits: string; end: unknown } }).llm;
    assert.deepEqual([llm.plays, llm.digits, llm.end], [["https://example.com/hold.mp3"], "1234#", { handoffData: '{"reason":"operator"}' }]);
  });
});
