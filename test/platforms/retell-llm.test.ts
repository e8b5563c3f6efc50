/**
 * Retell's custom-LLM WebSocket (issue 28, part 2): vwh plays Retell's side against the reference server
 * (examples/retell-llm-server.js) and against servers that get the protocol wrong — in process, on a fake
 * clock with the media lockstep on.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { WebSocketServer, type WebSocket } from "ws";
import { callFlowSchema } from "../../src/files/call-flow.js";
import { runSimulation } from "../../src/engine/run.js";
import { maxTurnTextChars } from "../../src/media/text-session.js";
import { retellPlatform } from "../../src/platforms/retell/index.js";
import { engineOptions } from "../engine-helpers.js";
import { newSecret, runInProcess } from "../helpers.js";
import { fakeClock } from "../media-agents.js";
// @ts-expect-error: a plain JavaScript example
import { attachRetellLlm } from "../../../examples/retell-llm-server.js";

type Request = Record<string, unknown> & { interaction_type: string; response_id?: number };
type Server = (socket: WebSocket, send: (message: Record<string, unknown>) => void, request: Request | undefined) => void;

interface Listening {
  url: string;
  received: Request[];
  paths: string[];
  close(): Promise<void>;
}

/** A server on 127.0.0.1: the reference one, or `server` called once on connection (request undefined) and per request. */
async function listen(server: Server | "reference"): Promise<Listening> {
  const received: Request[] = [];
  const paths: string[] = [];
  const http = createServer((_request, response) => response.writeHead(404).end());
  http.on("upgrade", (request: IncomingMessage) => paths.push(request.url ?? ""));
  let sockets: WebSocketServer;
  if (server === "reference") {
    sockets = attachRetellLlm(http) as WebSocketServer;
    sockets.on("connection", (socket: WebSocket) => socket.on("message", (data: Buffer) => received.push(JSON.parse(data.toString("utf8")) as Request)));
  } else {
    sockets = new WebSocketServer({ server: http });
    sockets.on("connection", (socket) => {
      const send = (message: Record<string, unknown>) => socket.readyState === socket.OPEN && socket.send(JSON.stringify(message));
      server(socket, send, undefined);
      socket.on("message", (data: Buffer) => {
        const request = JSON.parse(data.toString("utf8")) as Request;
        received.push(request);
        server(socket, send, request);
      });
    });
  }
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  return {
    url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/llm-websocket`,
    received,
    paths,
    close: async () => {
      for (const client of sockets.clients) client.terminate();
      sockets.close();
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

async function run(url: string, script: unknown[], settings: Record<string, unknown> = {}) {
  const clock = fakeClock();
  const options = engineOptions(url, newSecret(), { now: clock.now, wait: clock.wait, mediaLockstep: true });
  try {
    const flow = {
      file: "inline.json",
      platform: retellPlatform,
      flow: callFlowSchema.parse({
        version: 1,
        platform: "retell",
        name: "llm",
        call: { call_id: "call_llm1", from: "+15550100001", to: "+15550100200" },
        settings,
        script,
      }),
    };
    const started = clock.now();
    const result = await runSimulation([flow], options);
    // Platform time on the injected clock, from the start of the run to its end.
    return { result, turns: result.flows[0]!.turns!, elapsed: clock.now() - started };
  } finally {
    await options.dispatcher.close();
  }
}

const messages = (turn: { failures: { path?: string | undefined; message: string }[] }) =>
  turn.failures.map((finding) => `${finding.path ?? ""}: ${finding.message}`);
const begin = { response_type: "response", response_id: 0, content: "", content_complete: true };

describe("Retell custom LLM against the reference server", () => {
  const servers: Listening[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));

  it("plays the call on <url>/<call_id>: begin message, response_required with increasing ids, tool calls, a reminder, a barge-in, a transfer", async () => {
    const server = await listen("reference");
    servers.push(server);
    const { turns, result } = await run(
      server.url,
      [
        { expect: { says: { contains: "Ada's bistro" } } },
        {
          say: "I'd like to book a table for two",
          expect: { says: "Booked: table seven at eight.", result: { contains: '"booked":true' }, first_audio_ms: 100 },
        },
        { silence_ms: 3000, expect: { says: "Still there?" } },
        { say: "What is on the menu tonight?" },
        { interrupt: "Actually, can I talk to a person?", expect: { transfers_to: "+15550100999", ends: "transferred" } },
      ],
      { retell_reminder_trigger_ms: 2000 },
    );
    assert.deepEqual(turns.map(messages), [[], [], [], [], []]);
    assert.ok(result.flows[0]!.passed);
    assert.deepEqual(server.paths, ["/llm-websocket/call_llm1"]);
    const requests = server.received.filter((request) => request.interaction_type.endsWith("_required"));
    assert.deepEqual(
      requests.map((request) => [request.interaction_type, request.response_id]),
      [
        ["response_required", 1],
        ["reminder_required", 2],
        ["response_required", 3],
        ["response_required", 4],
      ],
    );
    assert.ok(
      server.received.some(
        (request) => request.interaction_type === "call_details" && (request["call"] as { from_number?: string }).from_number === "+15550100001",
      ),
    );
    assert.ok(
      server.received.some((request) => request.interaction_type === "ping_pong"),
      "auto_reconnect: Retell pings",
    );
    assert.ok(server.received.some((request) => request.interaction_type === "update_only"));
    const transcript = requests.at(-1)!["transcript"] as { role: string; content: string }[];
    assert.deepEqual(transcript.at(-1), { role: "user", content: "Actually, can I talk to a person?" });
    assert.equal(turns[1]!.media!.text!.toolCalls[0]!.name, "book_table");
    assert.equal(turns[4]!.media!.stoppedOnInterrupt, true);
  });
});

describe("Retell custom LLM: reminders", () => {
  it("come after the agent's reminder_trigger_ms of silence (default 10 s), at most reminder_max_count times (default 1) until the caller speaks", async () => {
    const server = await listen((_socket, send, request) => {
      if (!request) return send(begin);
      if (request.interaction_type.endsWith("_required"))
        send({ response_type: "response", response_id: request.response_id, content: "Hello?", content_complete: true });
    });
    try {
      await run(server.url, [{}, { silence_ms: 3000 }, { silence_ms: 25_000 }, { say: "sorry" }, { silence_ms: 25_000 }], {});
      const reminders = () => server.received.filter((request) => request.interaction_type === "reminder_required").length;
      assert.equal(reminders(), 2, "none in 3 s; one in the next 25 s; one again after the caller spoke");
      server.received.length = 0;
      // Each reminder's answer is an utterance of its own: spoken one after another, so the turn's text spaces them.
      const { turns } = await run(server.url, [{}, { silence_ms: 3500, expect: { says: "Hello? Hello? Hello?", first_audio_ms: 100 } }], {
        retell_reminder_trigger_ms: 1000,
        retell_reminder_max_count: 3,
      });
      assert.equal(reminders(), 3);
      assert.deepEqual(turns.map(messages), [[], [], []]);
    } finally {
      await server.close();
    }
  });
});

describe("Retell custom LLM: what the agent says", () => {
  const servers: Listening[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));

  it("the chunks of one streamed response as sent; separate responses and interrupts as separate utterances, with a space", async () => {
    const server = await listen((_socket, send, request) => {
      if (!request) {
        // The begin message, then an agent_interrupt: two utterances in the opening turn.
        send({ response_type: "response", response_id: 0, content: "Hello.", content_complete: true });
        return send({ response_type: "agent_interrupt", interrupt_id: 1, content: "How can I help?", content_complete: true });
      }
      if (request.interaction_type !== "response_required") return;
      const id = request.response_id;
      if (id === 1) {
        // An LLM's deltas, the space carried by the delta, a word split across two; then a second complete response.
        for (const content of ["Let", " me ch", "eck."]) send({ response_type: "response", response_id: id, content, content_complete: false });
        send({ response_type: "response", response_id: id, content: "", content_complete: true });
        send({ response_type: "response", response_id: id, content: "Anything else?", content_complete: true });
      } else send({ response_type: "response", response_id: id, content: "Goodbye.", content_complete: true, end_call: true });
    });
    servers.push(server);
    const { turns } = await run(server.url, [
      { expect: { says: "Hello. How can I help?" } },
      { say: "Is my order ready?", expect: { says: "Let me check. Anything else?" } },
      { say: "No, thanks", expect: { says: "Goodbye.", ends: true } },
    ]);
    assert.deepEqual(turns.map(messages), [[], [], []]);
    assert.equal(turns[1]!.media!.text!.text, "Let me check. Anything else?");
    // The transcript Retell sends back holds the same utterances.
    const transcript = server.received.filter((request) => request.interaction_type === "response_required").at(-1)!["transcript"] as {
      role: string;
      content: string;
    }[];
    assert.deepEqual(
      transcript.filter((utterance) => utterance.role === "agent").map((utterance) => utterance.content),
      ["Hello.", "How can I help?", "Let me check.", "Anything else?"],
    );
  });
});

describe("Retell custom LLM: servers that get it wrong", () => {
  const servers: Listening[] = [];
  after(() => Promise.all(servers.map((server) => server.close())));
  const start = async (server: Server) => {
    const listening = await listen(server);
    servers.push(listening);
    return listening;
  };

  it("no begin message: a finding and the call ends within the reply window", async () => {
    const server = await start(() => {});
    const { turns, elapsed } = await run(server.url, [{}, { say: "hello" }]);
    assert.match(messages(turns[0]!).join(), /^begin: the server sent no begin message/);
    assert.equal(turns[0]!.ended, "failed");
    assert.ok(elapsed < 10_000, `${elapsed} ms of platform time`);
  });

  it("an answer for the wrong response_id, and an old answer that keeps streaming after a new request, are findings", async () => {
    const server = await start((socket, send, request) => {
      if (!request) return send(begin);
      if (request.interaction_type !== "response_required") return;
      if (request.response_id === 1) {
        send({ response_type: "response", response_id: 7, content: "Wrong id.", content_complete: true });
        // Answers request 1 and never stops, whatever comes after.
        let sent = 0;
        const stream = () => {
          if (sent++ > 400 || socket.readyState !== socket.OPEN) return;
          send({ response_type: "response", response_id: 1, content: "and more ", content_complete: false });
          setTimeout(stream, 2);
        };
        stream();
      } else
        send({
          response_type: "response",
          response_id: request.response_id,
          content: "OK, I will stop. What else can I do for you today?",
          content_complete: true,
        });
    });
    const { turns } = await run(server.url, [{}, { say: "tell me everything" }, { interrupt: "stop" }]);
    assert.ok(
      messages(turns[1]!).some((message) => /response_id: response_id 7 answers no request \(the latest is 1\)/.test(message)),
      messages(turns[1]!).join("\n"),
    );
    assert.ok(
      messages(turns[2]!).some((message) => /response 1 kept streaming \d+ ms after a newer request superseded it/.test(message)),
      messages(turns[2]!).join("\n"),
    );
    assert.ok(turns[2]!.media!.text!.staleTokens > 0);
    assert.equal(turns[2]!.media!.stoppedOnInterrupt, false);
  });

  it("closing mid-stream, or a frame that is not JSON, ends the call with a finding", async () => {
    const closing = await start((socket, send, request) => {
      if (!request) return send(begin);
      if (request.interaction_type === "response_required") {
        send({ response_type: "response", response_id: request.response_id, content: "Let me", content_complete: false });
        socket.close();
      }
    });
    const closed = await run(closing.url, [{}, { say: "hi" }]);
    assert.deepEqual(messages(closed.turns[1]!), [": the server closed the socket without end_call: Retell drops the call"]);
    assert.equal(closed.turns[1]!.ended, "failed");
    const garbled = await start((socket, send, request) => {
      if (!request) return send(begin);
      if (request.interaction_type === "response_required") socket.send("<html>oops</html>");
    });
    const bad = await run(garbled.url, [{}, { say: "hi" }]);
    assert.match(messages(bad.turns[1]!).join(), /expected a JSON message, got "<html>oops<\/html>"/);
    assert.equal(bad.turns[1]!.ended, "failed");
  });

  it("an endless stream is cut off with a finding, its text bounded; auto_reconnect without ping_pong echoes is a finding", async () => {
    const server = await start((socket, send, request) => {
      if (!request) {
        send({ response_type: "config", config: { auto_reconnect: true } });
        return send(begin);
      }
      if (request.interaction_type !== "response_required") return;
      // Chunks of 250 characters as fast as the socket takes them (thousands before the cut-off): the text's bound is passed
      // within the first few hundred, and each chunk is a message vwh handles (10 000 characters each only cost CPU).
      const chunk = "word ".repeat(50);
      const stream = () => {
        if (socket.readyState !== socket.OPEN) return;
        send({ response_type: "response", response_id: request.response_id, content: chunk, content_complete: false });
        setImmediate(stream);
      };
      stream();
    });
    const { turns } = await run(server.url, [{}, { say: "go on" }]);
    const found = messages(turns[1]!).join("\n");
    assert.match(found, /the agent's reply was not over 60 s after the caller's input: cut off/);
    assert.match(found, /ping_pong: config.auto_reconnect is on but the server did not echo ping_pong within 5 s/);
    assert.ok(turns[1]!.media!.text!.text.length <= maxTurnTextChars);
  });
});

describe("vwh simulate --url ws://…", () => {
  it("is a usage error on a platform without a socket protocol, naming the platforms that take one", async () => {
    const result = await runInProcess(["simulate", "fixtures/scripts/twilio-operator.json", "--url", "ws://127.0.0.1:9/relay", "--json"], {
      env: { VWH_SECRET: newSecret() },
    });
    assert.equal(result.code, 2);
    const error = (JSON.parse(result.stdout) as { error: { message: string } }).error.message;
    assert.match(
      error,
      /twilio \(fixtures\/scripts\/twilio-operator.json\) takes an http:\/\/ or https:\/\/ webhook URL; a ws:\/\/ URL is for retell \(the custom-LLM WebSocket/,
    );
  });
});
