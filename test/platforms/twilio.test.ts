/**
 * The Twilio platform (issue 10 part 3–4): caller scripts against examples/twilio-handler.js (built with
 * the official twilio package) in process, TwiML checks by element path, the driver's Twilio behaviour,
 * signatures both ways with twilio-node, the TwiML table's staleness, and the probe and sign commands through the real parser.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import twilio from "twilio";
import { request } from "undici";
import { createDispatcher } from "../../src/transport/undici.js";
import { callFlowSchema, loadFlow, platformProblems, type LoadedFlow } from "../../src/files/call-flow.js";
import { twilioPlatform } from "../../src/platforms/twilio/index.js";
import { parseTwilioReply } from "../../src/platforms/twilio/reply.js";
import type { CallDriver, CallerInput, DriverMove, WebhookRequest } from "../../src/platforms/types.js";
import { runProbe, urlCases } from "../../src/engine/probe.js";
import { getScheme } from "../../src/signing/index.js";
import { signatureHint } from "../../src/engine/auth-hint.js";
import { runSimulation } from "../../src/engine/run.js";
import { type SimulationOptions } from "../../src/engine/options.js";
import { type SimulationResult } from "../../src/engine/results.js";
import { repoRoot, runInProcess, startListener, startServer, type TestServer } from "../helpers.js";

const token = "f3a1c0ffee5eed0123456789abcdef01";
const publicOrigin = "https://ivr.example.test";
const publicVoiceUrl = `${publicOrigin}/twilio/voice`;
const signer = getScheme("twilio").create([{ value: token, source: "(test)" }], { purpose: "sign" });
const dispatcher = createDispatcher(8);

interface TwilioHandlerModule {
  createTwilioHandler(options: { authToken: string; publicUrl?: string; log?: (line: string) => void }): RequestListener & { bookings: Map<string, string> };
  VOICE_PATH: string;
}
const example = (await import(pathToFileURL(join(repoRoot, "examples", "twilio-handler.js")).href)) as TwilioHandlerModule;

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

/** The handler behind a recorder of what Twilio (vwh) sent it. */
async function startHandler(options: { publicUrl?: string }, seen: Seen[] = []): Promise<TestServer> {
  const handler = example.createTwilioHandler({ authToken: token, ...options });
  return startListener((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () =>
      seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body: Buffer.concat(chunks).toString("utf8") }),
    );
    handler(request, response);
  }, example.VOICE_PATH);
}

function simulation(target: string, extra: Partial<SimulationOptions> = {}): SimulationOptions {
  return {
    target: new URL(target),
    publicUrl: new URL(publicVoiceUrl),
    signer,
    signatureHeaders: ["x-twilio-signature"],
    policy: { timeoutMs: 5000, retries: 0, backoffMs: 0, timeScale: 1 },
    faults: { duplicates: 0, reorderWindow: 0, seed: 7, bail: false },
    budgetMs: 10_000,
    strictLatency: false,
    realtime: false,
    dispatcher,
    ...extra,
  };
}

function script(flow: Record<string, unknown>): LoadedFlow {
  return {
    file: "inline.json",
    flow: callFlowSchema.parse({ version: 1, platform: "twilio", name: "inline", call: { from: "+15550100001", to: "+15550100300" }, ...flow }),
    platform: twilioPlatform,
  };
}

const failuresOf = (result: SimulationResult) =>
  result.flows
    .flatMap((flow) => [...flow.events.flatMap((event) => event.failures), ...(flow.turns ?? []).flatMap((turn) => turn.failures)])
    .map((finding) => `${finding.path ?? ""}: ${finding.message}`);

/** A stub handler answering every request with the TwiML a function picks. */
async function twimlServer(
  reply: (request: { url: string; body: string; headers: IncomingMessage["headers"] }, response: ServerResponse) => void,
): Promise<TestServer> {
  return startServer(
    (request, response) => reply({ url: request.url, body: request.body.toString("utf8"), headers: request.headers }, response),
    "/twilio/voice",
  );
}
const xml = (response: ServerResponse, body: string, headers: Record<string, string> = {}) =>
  void response.writeHead(200, { "content-type": "text/xml", ...headers }).end(body);

after(() => dispatcher.close());

describe("twilio caller scripts against examples/twilio-handler.js", () => {
  let server: TestServer;
  const seen: Seen[] = [];
  before(async () => {
    server = await startHandler({ publicUrl: publicVoiceUrl }, seen);
  });
  after(() => server.close());

  it("passes the bundled scripts: Gather → action → Redirect → Dial → Hangup, speech, no input", async () => {
    const flows = await Promise.all(
      ["twilio-operator.json", "twilio-appointment.json", "twilio-no-input.json"].map((name) => loadFlow(join(repoRoot, "fixtures", "scripts", name))),
    );
    seen.length = 0;
    const result = await runSimulation(flows, simulation(server.url, { platformSettings: { statusCallback: `${publicOrigin}/twilio/status` } }));
    assert.deepEqual(failuresOf(result), []);
    assert.ok(result.flows.every((flow) => flow.passed));
    const operator = result.flows[0]!;
    assert.deepEqual(
      operator.turns!.map((turn) => [turn.label, turn.ended ?? "-"]),
      [
        ["connect", "-"],
        ["press 0", "handler_hangup"],
      ],
    );
    assert.deepEqual(
      operator.events.map((event) => event.eventType),
      ["status", "status", "voice", "status", "gather", "redirect", "dial", "status"],
    );

    // What the handler saw: Twilio's parameters, headers and per-call cookies.
    const calls = seen.filter((request) => request.url !== "/twilio/status");
    const first = new URLSearchParams(calls[0]!.body);
    assert.match(first.get("AccountSid")!, /^AC[0-9a-f]{32}$/);
    assert.match(first.get("CallSid")!, /^CA[0-9a-f]{32}$/);
    assert.equal(first.get("CallStatus"), "ringing");
    assert.equal(first.get("ApiVersion"), "2010-04-01");
    assert.equal(first.get("Direction"), "inbound");
    assert.equal(first.get("Caller"), first.get("From"));
    assert.equal(first.get("Called"), first.get("To"));
    for (const field of ["FromCity", "FromState", "FromZip", "FromCountry", "ToCity", "CallerZip", "CalledCountry", "CallToken"])
      assert.ok(first.has(field), field);
    const headers = calls[0]!.headers;
    assert.equal(headers["content-type"], "application/x-www-form-urlencoded; charset=UTF-8");
    assert.equal(headers["user-agent"], "TwilioProxy/1.1");
    assert.equal(headers["x-home-region"], "us1");
    assert.equal(headers.accept, "*/*");
    assert.match(String(headers["i-twilio-idempotency-token"]), /^[0-9a-f-]{36}$/);
    assert.equal(headers.cookie, undefined);
    assert.equal(calls[1]!.headers.cookie, "ivr_misses=0", "the handler's Set-Cookie comes back on the call's next request");
    const gather = new URLSearchParams(calls[1]!.body);
    assert.deepEqual([gather.get("msg"), gather.get("Digits"), gather.get("FinishedOnKey"), gather.get("CallStatus")], ["Gather End", "0", "", "in-progress"]);
    const dial = new URLSearchParams(calls[3]!.body);
    assert.equal(calls[3]!.url, "/twilio/after-dial");
    assert.equal(dial.get("DialCallStatus"), "completed");
    assert.match(dial.get("DialCallSid")!, /^CA[0-9a-f]{32}$/);
    const speech = seen.map((request) => new URLSearchParams(request.body)).find((params) => params.get("SpeechResult") === "Tuesday morning please");
    assert.equal(speech?.get("Confidence"), "0.87");

    const statuses = seen
      .filter((request) => request.url === "/twilio/status")
      .map((request) => new URLSearchParams(request.body))
      .filter((params) => params.get("CallSid") === first.get("CallSid"));
    assert.deepEqual(
      statuses.map((params) => [params.get("CallStatus"), params.get("SequenceNumber")]),
      [
        ["initiated", "0"],
        ["ringing", "1"],
        ["in-progress", "2"],
        ["completed", "3"],
      ],
    );
    const completed = statuses[3]!;
    assert.match(completed.get("Timestamp")!, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.ok(Number(completed.get("CallDuration")) >= 30, "the dialled call's 30 s are in the call's platform time");
    assert.equal(completed.get("CallbackSource"), "call-progress-events");
  });

  it("fails expectations that do not hold, naming the turn and the reason", async () => {
    const result = await runSimulation(
      [
        script({
          script: [{ expect: { actions: ["speak", "listen", "redirect"] } }, { press: "0", expect: { transfers_to: "+15550100111", ends: "transferred" } }],
        }),
      ],
      simulation(server.url),
    );
    const [connect, press] = result.flows[0]!.turns!;
    assert.equal(connect!.passed, false);
    assert.deepEqual(
      connect!.failures.map((finding) => finding.message),
      ["expected [speak, listen, redirect], got [speak, listen]"],
    );
    assert.equal(press!.label, "press 0");
    assert.deepEqual(
      press!.failures.map((finding) => `${finding.path}: ${finding.message}`),
      ["ends: expected the call to end (transferred), but it ended (handler_hangup)", 'transfers_to: expected "+15550100111", got "+15550100999"'],
    );
  });

  it("passes the starter scripts vwh init --platform twilio writes", async () => {
    const flows = twilioPlatform.starters.map((starter) => ({
      file: `${starter.id}.json`,
      platform: twilioPlatform,
      flow: callFlowSchema.parse(starter.flow({ from: "+15550100001", to: "+15550100300" })),
    }));
    assert.deepEqual(
      flows.map((loaded) => platformProblems(loaded.flow, twilioPlatform)),
      [[], [], []],
    );
    const result = await runSimulation(flows, simulation(server.url));
    assert.deepEqual(failuresOf(result), []);
  });

  it("answers a retried request (same I-Twilio-Idempotency-Token) with the same TwiML, without booking twice", async () => {
    const result = await runSimulation(
      [await loadFlow(join(repoRoot, "fixtures", "scripts", "twilio-appointment.json"))],
      simulation(server.url, { faults: { duplicates: 1, reorderWindow: 0, seed: 3, bail: false } }),
    );
    assert.deepEqual(failuresOf(result), []);
    assert.ok(result.flows[0]!.events.every((event) => event.duplicate?.passed));
  });
});

describe("examples/twilio-handler.js under hostile input", () => {
  it("refuses without crashing: no or bad signature, oversized or garbled bodies, other methods and paths", async () => {
    const server = await startHandler({ publicUrl: publicVoiceUrl });
    try {
      const send = async (path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) => {
        const response = await request(new URL(path, server.url), {
          method: (init.method ?? "POST") as "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", ...init.headers },
          body: init.body ?? "",
          dispatcher,
        });
        await response.body.dump();
        return response.statusCode;
      };
      const form = "CallSid=CA1&From=%2B15550100001";
      const signature = (body: string, path = "/twilio/voice") =>
        twilio.getExpectedTwilioSignature(token, `${publicOrigin}${path}`, Object.fromEntries(new URLSearchParams(body)));
      assert.equal(await send("/twilio/voice", { body: form }), 400);
      assert.equal(await send("/twilio/voice", { body: form, headers: { "x-twilio-signature": "not base64 at all" } }), 403);
      assert.equal(await send("/twilio/voice", { body: Buffer.alloc(100_000, 97), headers: { "x-twilio-signature": "x" } }), 413);
      assert.equal(await send("/twilio/voice", { body: "%E0%A4%A=&&==%", headers: { "x-twilio-signature": signature("%E0%A4%A=&&==%") } }), 200);
      assert.equal(await send("/twilio/voice", { method: "PUT", body: form }), 405);
      assert.equal(await send("/../../etc/passwd", { body: form }), 404);
      assert.equal(
        await send("/twilio/menu?Digits=1", {
          method: "GET",
          headers: { "x-twilio-signature": twilio.getExpectedTwilioSignature(token, `${publicOrigin}/twilio/menu?Digits=1`, {}) },
        }),
        200,
      );
      assert.equal(await send("/twilio/voice", { body: form, headers: { "x-twilio-signature": signature(form) } }), 200, "still serving");
    } finally {
      await server.close();
    }
  });
});

describe("twilio signatures and the public URL", () => {
  /** The run's hint as `vwh simulate` computes it: the probe's URL cases sent to the handler at `target`. */
  const hintFor = (result: SimulationResult, target: string, probeSigner = signer) =>
    signatureHint(result, {
      scheme: () => ({ name: "twilio", signsUrl: true }),
      target: new URL(target),
      publicUrl: new URL(publicVoiceUrl),
      secretSource: "VWH_SECRET",
      probeUrl: async () =>
        (
          await runProbe(
            {
              target: new URL(target),
              publicUrl: new URL(publicVoiceUrl),
              platform: twilioPlatform,
              scheme: getScheme("twilio"),
              settings: { purpose: "sign" },
              signer: probeSigner,
              toleranceSeconds: 300,
              timeoutMs: 5000,
              dispatcher,
            },
            urlCases,
          )
        ).cases,
    });

  it("a handler validating against its local URL: one hint for the run, computed — the wrong URL, not the token", async () => {
    const local = await startHandler({});
    try {
      const result = await runSimulation([script({ script: [{ expect: { actions: ["speak", "listen"] } }] })], simulation(local.url));
      const [voice] = result.flows[0]!.events;
      assert.equal(voice!.status, 403);
      assert.equal(voice!.failures[0]!.message, "expected status 2xx, got 403", "no guess under each event");
      assert.equal(result.flows[0]!.turns![0]!.ended, "failed");
      const hint = await hintFor(result, local.url);
      assert.match(hint ?? "", /^1 of 1 webhooks refused with 403: wrong URL, not the secret: the handler accepts a signature over the URL it receives/);
      // The same handler passes when vwh signs the URL it sees.
      const direct = await runSimulation(
        [script({ script: [{ expect: { actions: ["speak", "listen"] } }] })],
        simulation(local.url, { publicUrl: new URL(local.url) }),
      );
      assert.deepEqual(failuresOf(direct), []);
      assert.equal(await hintFor(direct, local.url), undefined);
    } finally {
      await local.close();
    }
  });

  it("a handler validating the public URL with another token: the hint names the token, not the URL", async () => {
    const good = await startHandler({ publicUrl: publicVoiceUrl });
    try {
      const wrongSigner = getScheme("twilio").create([{ value: "0".repeat(32), source: "(test)" }], { purpose: "sign" });
      const result = await runSimulation([script({ script: [{}] })], simulation(good.url, { signer: wrongSigner }));
      assert.equal(result.flows[0]!.events[0]!.status, 403);
      const hint = await hintFor(result, good.url, wrongSigner);
      assert.match(hint ?? "", /wrong secret: the handler refused signatures over both the public and the local URL — its token is not the one in VWH_SECRET/);
      assert.doesNotMatch(hint ?? "", /wrong URL/);
    } finally {
      await good.close();
    }
  });

  it("what vwh signs verifies in twilio.validateRequest, and vwh verifies what twilio-node signs", () => {
    const request = twilioPlatform.encode({
      eventType: "gather",
      eventId: "5b5d1d7e-0000-4000-8000-000000000001",
      sequence: 2,
      timestamp: new Date(0),
      payload: { Digits: "1#", SpeechResult: "café & crème" },
      call: { callId: "call_1", from: "+15550100001", to: "+15550100002", direction: undefined },
      url: new URL(`${publicVoiceUrl}?lang=en`),
    });
    const signed = signer.sign({ id: "x", timestamp: 0, body: request.body, method: "POST", url: request.url.href, contentType: request.contentType! });
    const params = Object.fromEntries(new URLSearchParams(request.body.toString("utf8")));
    assert.equal(twilio.validateRequest(token, signed.headers["x-twilio-signature"]!, request.url.href, params), true);
    assert.equal(twilio.validateRequest(token, signed.headers["x-twilio-signature"]!, "http://127.0.0.1:3000/twilio/voice?lang=en", params), false);
    const theirs = twilio.getExpectedTwilioSignature(token, request.url.href, params);
    const verdict = signer.verify(
      { headers: { "x-twilio-signature": theirs }, body: request.body, method: "POST", url: request.url.href },
      { now: 0, toleranceSeconds: 0 },
    );
    assert.deepEqual(verdict, { valid: true });
    // A GET carries its parameters in the signed URL.
    const get = signer.sign({
      id: "x",
      timestamp: 0,
      body: Buffer.alloc(0),
      method: "GET",
      url: `${publicVoiceUrl}?CallSid=CA1&Digits=1`,
      contentType: "application/octet-stream",
    });
    assert.equal(twilio.validateRequest(token, get.headers["x-twilio-signature"]!, `${publicVoiceUrl}?CallSid=CA1&Digits=1`, {}), true);
  });
});

describe("TwiML replies", () => {
  const context = {
    eventType: "voice",
    waits: true,
    expectsActions: false,
    request: { method: "POST", url: new URL(publicVoiceUrl), body: Buffer.alloc(0), contentType: undefined, headers: {} } as WebhookRequest,
  };
  const parse = (body: string, contentType = "text/xml") =>
    parseTwilioReply({ status: 200, headers: { "content-type": contentType }, body: Buffer.from(body) }, context);

  it("names invalid TwiML by element path: unknown verb, bad attribute value, verb after Hangup, Say inside Dial", async () => {
    const bad = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather input="voice" action="/menu" numDigits="one" method="PUT"><Say>Press 1</Say></Gather>
  <Speak>Hello</Speak>
  <Dial><Say>Connecting</Say><Number>+15550100999</Number></Dial>
  <say>lower case</say>
  <Hangup/>
  <Say>Never heard</Say>
</Response>`;
    const parsed = parse(bad);
    assert.deepEqual(
      parsed.failures.map((finding) => `${finding.path}: ${finding.message}`),
      [
        'Response/Gather[1]@input: expected dtmf, speech or "dtmf speech", got "voice"',
        'Response/Gather[1]@numDigits: expected a number, got "one"',
        'Response/Gather[1]@method: expected GET or POST, got "PUT"',
        "Response/Speak[1]: <Speak> is not a TwiML verb (expected one of Connect, Dial, Echo, Enqueue, Gather, Hangup, Leave, Pause, Pay, Play, Prompt, Queue, Record, Redirect, Refer, Reject, Say, Sms, Start, Stop)",
        "Response/Dial[1]/Say[1]: <Say> is not allowed inside <Dial> (it takes Application, Client, Conference, Number, Queue, Sim, Sip, WhatsApp)",
        "Response/say[1]: <say> is not a TwiML verb: TwiML is case-sensitive, did you mean <Say>?",
      ],
    );
    // Verbs after <Hangup> are never reached, but Twilio runs the document: a warning, not a failure.
    assert.ok(
      parsed.warnings.some(
        (finding) => `${finding.path}: ${finding.message}` === "Response/Say[1]: unreachable: Twilio leaves the document at Response/Hangup[1]",
      ),
    );
    // End to end: the turn fails and Twilio drops the call.
    const server = await twimlServer((_request, response) => xml(response, bad));
    try {
      const result = await runSimulation(
        [script({ script: [{ expect: { ends: false } }, { press: "1" }] })],
        simulation(server.url, { publicUrl: new URL(server.url) }),
      );
      const failures = failuresOf(result);
      assert.ok(failures.includes('Response/Gather[1]@input: expected dtmf, speech or "dtmf speech", got "voice"'), failures.join("\n"));
      assert.ok(failures.includes("ends: expected the call to go on, but it ended (failed)"), failures.join("\n"));
    } finally {
      await server.close();
    }
  });

  it("reads valid TwiML as normalised actions, with native paths", () => {
    const parsed = parse(
      `<Response><Gather input="speech dtmf" bargeIn="false" timeout="3"><Say voice="Polly.Joanna" loop="2">Hi <emphasis>there</emphasis></Say><Play>https://x.test/a.mp3</Play></Gather><Pause length="2"/><Record maxLength="30" action="rec"/><Connect action="/after"><Stream url="wss://media.test/s" track="inbound_track"><Parameter name="agent" value="sales"/></Stream></Connect><Dial callerId="+15550100002"><Number>+15550100999</Number></Dial><Reject reason="busy"/></Response>`,
    );
    assert.deepEqual(parsed.failures, []);
    assert.deepEqual(
      parsed.actions.map((action) => action.type),
      ["speak", "play", "listen", "pause", "record", "stream", "transfer", "reject"],
    );
    assert.deepEqual(parsed.actions[0], {
      type: "speak",
      path: "Response/Gather[1]/Say[1]",
      text: "Hi there",
      voice: "Polly.Joanna",
      loop: 2,
      barge_in: false,
    });
    assert.deepEqual(parsed.actions[2], { type: "listen", path: "Response/Gather[1]", input: ["speech", "dtmf"], timeout_s: 3 });
    assert.deepEqual(parsed.actions[5], {
      type: "stream",
      path: "Response/Connect[1]/Stream[1]",
      url: "wss://media.test/s",
      connect_action: "/after",
      protocol: "twilio-media",
      track: "inbound_track",
      parameters: { agent: "sales" },
    });
    assert.equal(parsed.actions[6]!["to"], "+15550100999");
    assert.deepEqual(parsed.native!.select("Response/Gather@bargeIn"), ["false"]);
    assert.deepEqual(parsed.native!.select("Response/Gather[1]/Say"), ["Hi there"]);
    assert.deepEqual(parsed.native!.select("Response/Connect/Stream/Parameter@value"), ["sales"]);
    assert.deepEqual(
      parse('<Response><Say voice="Polly.Nobody">x</Say><Gather foo="1" numdigits="1"/></Response>').failures.map((f) => f.path),
      ["Response/Gather[1]@numdigits"],
    );
    assert.deepEqual(
      parse('<Response><Gather action="http://[bad"/><Redirect>https://</Redirect></Response>').failures.map((f) => `${f.path}: ${f.message}`),
      [
        'Response/Gather[1]@action: expected a URL, got "http://[bad": Twilio cannot fetch it',
        'Response/Redirect[1]: expected a URL, got "https://": Twilio cannot fetch it',
      ],
    );
    // Hostile names: refused by the parser, or looked up as own properties only.
    assert.match(parse("<Response><constructor/></Response>").failures[0]!.message, /^unreadable XML: .*constructor.*12100/);
    assert.match(parse(`<Response>${"<Say>".repeat(5000)}${"</Say>".repeat(5000)}</Response>`).failures[0]!.message, /^unreadable XML: /);
    assert.deepEqual(
      parse('<Response><isPrototypeOf/><Say propertyIsEnumerable="y">x</Say></Response>').failures.map((f) => f.path),
      ["Response/isPrototypeOf[1]"],
    );
    assert.match(parse('<Response><Say voice="Polly.Nobody">x</Say></Response>').warnings[0]!.message, /not in twilio \d+\.\d+\.\d+'s list/);
    assert.deepEqual(
      parse('<Response><Connect><Stream url="https://media.test/s"/></Connect></Response>').failures.map((f) => `${f.path}: ${f.message}`),
      ['Response/Connect[1]/Stream[1]@url: expected a wss:// URL, got "https://media.test/s": Twilio cannot open the stream'],
    );
  });

  it("says what Twilio does with bodies that are not TwiML", () => {
    assert.match(parse("").failures[0]!.message, /empty body .*12100/);
    assert.match(parse("<Response><Say>unclosed</Response>").failures[0]!.message, /^not well-formed XML at line 1:\d+: .*12100/);
    assert.match(parse("<Reply/>").failures[0]!.message, /expected a <Response> root element, got <Reply>/);
    assert.match(parse('{"say":"hi"}', "application/json").failures[0]!.message, /expected TwiML as text\/xml .*got "application\/json".*12300/);
    const plain = parse("Hello there", "text/plain");
    assert.deepEqual(plain.failures, []);
    assert.deepEqual(
      plain.actions.map((action) => [action.type, action["text"]]),
      [
        ["speak", "Hello there"],
        ["hangup", undefined],
      ],
    );
    assert.match(parse("<Response><Say>x</Say></Response>", "text/plain").failures[0]!.message, /read this XML aloud/);
    assert.deepEqual(
      parse("ID3", "audio/mpeg").actions.map((action) => action.type),
      ["play", "hangup"],
    );
    assert.deepEqual(
      parse("<Response><Hangup/></Response>", "text/html; charset=utf-8").actions.map((action) => action.type),
      ["hangup"],
    );
  });
});

describe("the twilio call driver", () => {
  /** Drives a call without HTTP: each send is answered by `answer(url, params)`. */
  async function drive(answer: (url: URL, params: URLSearchParams) => string, caller: CallerInput[], settings: Record<string, unknown> = {}) {
    const driver: CallDriver = await twilioPlatform.startCall({
      call: { callId: "call_drv", from: "+15550100001", to: "+15550100002", direction: undefined },
      url: new URL(publicVoiceUrl),
      start: new Date(0),
      newId: (prefix) => `${prefix}_1`,
      settings,
      now: () => 0,
      wait: async () => {},
    });
    const sent: { type: string; url: string; params: URLSearchParams; afterMs: number }[] = [];
    const streams: string[] = [];
    const steps = [...caller];
    driver.caller({ kind: "connect" }, undefined);
    for (let move: DriverMove = await driver.next(); ; move = await driver.next()) {
      if (move.kind === "send") {
        const params = new URLSearchParams(move.webhook.request.body.toString("utf8"));
        sent.push({ type: move.webhook.eventType, url: move.webhook.request.url.href, params, afterMs: move.webhook.afterMs });
        const body = Buffer.from(answer(move.webhook.request.url, params));
        const reply = { status: 200, headers: { "content-type": "text/xml" }, body };
        driver.replied(move.webhook, {
          ok: true,
          reply,
          parsed: parseTwilioReply(reply, {
            eventType: move.webhook.eventType,
            waits: move.webhook.waits,
            expectsActions: false,
            request: move.webhook.request,
          }),
        });
      } else if (move.kind === "stream") {
        streams.push(`${move.stream.protocol} ${move.stream.url.href} ${JSON.stringify(move.stream.parameters)}`);
        driver.streamEnded({ kind: "closed_by_agent" });
      } else if (move.kind === "await-caller") driver.caller(steps.shift() ?? { kind: "hangup" }, undefined);
      else if (move.kind === "ended") return { sent, streams, ended: move.reason };
    }
  }
  const doc = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?><Response>${inner}</Response>`;

  it("Gather: digits up to the finish key, speech with its confidence, barge-in, timeouts falling through", async () => {
    const menu = doc('<Gather input="dtmf speech" action="/g" numDigits="4"><Say>Enter your PIN</Say></Gather><Say>No input</Say><Hangup/>');
    const run = await drive((url) => (url.pathname === "/g" ? doc("<Hangup/>") : menu), [{ kind: "press", digits: "12#9" }]);
    assert.deepEqual([run.sent[1]!.url, run.sent[1]!.params.get("Digits"), run.sent[1]!.params.get("FinishedOnKey")], [`${publicOrigin}/g`, "12", "#"]);
    const short = await drive(
      (url) => (url.pathname === "/g" ? doc("<Hangup/>") : doc('<Gather action="/g" numDigits="1"/>')),
      [{ kind: "press", digits: "34#" }],
    );
    assert.deepEqual([short.sent[1]!.params.get("Digits"), short.sent[1]!.params.get("FinishedOnKey")], ["3", ""], "numDigits reached before the finish key");
    const speech = await drive((url) => (url.pathname === "/g" ? doc("<Hangup/>") : menu), [{ kind: "interrupt", text: "operator please", confidence: 0.5 }]);
    assert.deepEqual([speech.sent[1]!.params.get("SpeechResult"), speech.sent[1]!.params.get("Confidence")], ["operator please", "0.5"]);
    const silent = await drive(() => menu, [{ kind: "silence", ms: 5000 }]);
    assert.deepEqual([silent.sent.length, silent.ended], [1, "handler_hangup"], "no input: the Gather falls through to the Say and Hangup");
    const empty = await drive(
      (url) => (url.pathname === "/voice2" ? doc("<Hangup/>") : doc('<Gather actionOnEmptyResult="true" action="voice2" method="GET"/>')),
      [{ kind: "silence", ms: 5000 }],
    );
    assert.equal(empty.sent[1]!.url.startsWith(`${publicOrigin}/twilio/voice2?`), true, "relative action, GET: parameters in the query");
    assert.equal(new URL(empty.sent[1]!.url).searchParams.get("Digits"), "");
    // Without barge-in, words over the prompt are lost: the Gather still waits.
    const noBarge = await drive(
      () => doc('<Gather input="speech" bargeIn="false" action="/g"><Say>Hi</Say></Gather>'),
      [{ kind: "interrupt", text: "hello", confidence: 0.9 }, { kind: "hangup" }],
    );
    assert.deepEqual([noBarge.sent.length, noBarge.ended], [1, "caller_hangup"]);
  });

  it("Record, Dial without action, Connect Stream then Connect action, Reject, end of document", async () => {
    const record = await drive(
      (url) => (url.pathname === "/rec" ? doc("<Say>Thanks</Say>") : doc('<Say>After the beep</Say><Record action="/rec" maxLength="20"/>')),
      [{ kind: "say", text: "call me back", confidence: 0.9 }],
    );
    assert.match(record.sent[1]!.params.get("RecordingSid")!, /^RE[0-9a-f]{32}$/);
    assert.equal(record.ended, "handler_hangup", "end of document = hangup");
    const dial = await drive(() => doc("<Dial>+15550100999</Dial><Say>unreached</Say>"), []);
    assert.deepEqual([dial.sent.length, dial.ended], [1, "transferred"]);
    const stream = await drive(
      (url) =>
        url.pathname === "/after"
          ? doc("<Hangup/>")
          : doc('<Connect action="/after"><Stream url="wss://media.test/s"><Parameter name="a" value="1"/></Stream></Connect>'),
      [],
    );
    // The <Parameter>s, and the call's sids for the start message (src/platforms/twilio/media.ts).
    assert.equal(stream.streams.length, 1);
    assert.match(stream.streams[0]!, /^twilio-media wss:\/\/media\.test\/s \{"a":"1","accountSid":"AC[0-9a-f]{32}","callSid":"CA[0-9a-f]{32}"\}$/);
    assert.deepEqual(
      stream.sent.map((sent) => sent.type),
      ["voice", "connect"],
    );
    const reject = await drive(() => doc('<Reject reason="busy"/>'), [], { statusCallback: "/twilio/status" });
    assert.deepEqual(
      reject.sent.map((sent) => `${sent.type}:${sent.params.get("CallStatus")}`),
      ["status:initiated", "status:ringing", "voice:ringing", "status:busy"],
    );
    assert.equal(reject.ended, "rejected");
  });

  it("Redirect loops stop at --max-hops", async () => {
    const server = await twimlServer((_request, response) => xml(response, doc("<Pause/><Redirect>/twilio/voice</Redirect>")));
    try {
      const result = await runSimulation(
        [script({ script: [{ expect: { ends: false } }] })],
        simulation(server.url, { publicUrl: new URL(server.url), maxHops: 5 }),
      );
      assert.equal(result.flows[0]!.passed, false);
      assert.equal(server.requests.length, 5);
      assert.ok(
        failuresOf(result).some((line) => line.includes("more than --max-hops 5 webhooks in one call: the handler loops (last: redirect to /twilio/voice)")),
        failuresOf(result).join("\n"),
      );
    } finally {
      await server.close();
    }
  });

  it("follows 301/307 to the handler's origin with the same request, and keeps the call's cookies", async () => {
    const server = await twimlServer((request, response) => {
      if (request.url === "/twilio/voice")
        return void response.writeHead(307, { location: "/twilio/moved", "set-cookie": "session=abc; Path=/; HttpOnly" }).end();
      if (request.url === "/twilio/moved")
        return xml(response, doc('<Gather action="/twilio/next"><Say>Hi</Say></Gather>'), { "set-cookie": "step=2; Expires=Wed, 21 Oct 2099 07:28:00 GMT" });
      xml(response, doc("<Hangup/>"));
    });
    try {
      const result = await runSimulation(
        [script({ script: [{ expect: { actions: ["speak", "listen"] } }, { press: "1", expect: { ends: "handler_hangup" } }] })],
        simulation(server.url, { publicUrl: new URL(server.url) }),
      );
      assert.deepEqual(failuresOf(result), []);
      const [first, moved, next] = server.requests;
      assert.equal(moved!.url, "/twilio/moved");
      assert.equal(moved!.body.toString(), first!.body.toString());
      assert.equal(moved!.headers["i-twilio-idempotency-token"], first!.headers["i-twilio-idempotency-token"]);
      assert.equal(moved!.headers.cookie, "session=abc");
      assert.equal(next!.headers.cookie, "session=abc; step=2");
    } finally {
      await server.close();
    }
  });
});

describe("twilio platform data", () => {
  it("the TwiML table matches what the script extracts from the installed twilio package", async () => {
    const extractor = (await import(pathToFileURL(join(repoRoot, "scripts", "extract-twilio-grammar.mjs")).href)) as {
      extractGrammar(): { source: { version: string } };
      grammarFile: string;
    };
    const committed = JSON.parse(readFileSync(extractor.grammarFile, "utf8")) as unknown;
    const fresh = extractor.extractGrammar();
    const installed = (JSON.parse(readFileSync(join(repoRoot, "node_modules", "twilio", "package.json"), "utf8")) as { version: string }).version;
    assert.equal(fresh.source.version, installed);
    assert.deepEqual(committed, fresh, "stale: run node scripts/extract-twilio-grammar.mjs");
  });

  it("identifies requests by type, CallSid and idempotency token", () => {
    const request = (params: Record<string, string>) => ({
      method: "POST",
      path: "/twilio/voice",
      headers: { "i-twilio-idempotency-token": "tok-1" },
      body: Buffer.from(new URLSearchParams({ CallSid: "CA1", ...params }).toString()),
    });
    assert.deepEqual(twilioPlatform.identify(request({})), { eventType: "voice", callId: "CA1", eventId: "tok-1" });
    assert.equal(twilioPlatform.identify(request({ msg: "Gather End", Digits: "1" })).eventType, "gather");
    assert.equal(twilioPlatform.identify(request({ CallbackSource: "call-progress-events", SequenceNumber: "0" })).eventType, "status");
    assert.equal(twilioPlatform.identify(request({ DialCallStatus: "completed" })).eventType, "dial");
    assert.equal(twilioPlatform.identify({ method: "GET", path: "/x?CallSid=CA9&RecordingUrl=u", headers: {}, body: Buffer.alloc(0) }).eventType, "record");
  });

  it("events flows (scripted requests) go out as Twilio form posts the handler accepts", async () => {
    const server = await startHandler({ publicUrl: publicVoiceUrl });
    try {
      const flow: LoadedFlow = {
        file: "events.json",
        platform: twilioPlatform,
        flow: callFlowSchema.parse({
          version: 1,
          platform: "twilio",
          name: "events",
          events: [
            { event_type: "voice", expect: { actions: ["speak", "listen", "redirect"], native: [{ path: "Response/Gather@action", equals: "/twilio/menu" }] } },
            { event_type: "status", payload: { CallStatus: "completed", CallDuration: 12 } },
          ],
        }),
      };
      const result = await runSimulation([flow], simulation(server.url));
      assert.deepEqual(failuresOf(result), []);
    } finally {
      await server.close();
    }
  });
});

describe("twilio on the command line", () => {
  it("verify-signature --platform twilio probes with form posts signed for the public URL; sign prints the signed URL", async () => {
    const good = await startHandler({ publicUrl: publicVoiceUrl });
    const naive = await startHandler({});
    try {
      const args = ["verify-signature", "--platform", "twilio", "--public-url", publicVoiceUrl, "--json"];
      const passed = await runInProcess([...args, "--url", good.url], { env: { VWH_SECRET: token } });
      assert.equal(passed.code, 0, passed.stdout + passed.stderr);
      const report = JSON.parse(passed.stdout) as { scheme: string; cases: { name: string; outcome: string }[] };
      assert.equal(report.scheme, "twilio");
      assert.deepEqual(
        report.cases.filter((entry) => entry.outcome !== "skipped").map((entry) => entry.name),
        [
          "valid signature for the public URL",
          "no signature headers",
          "wrong secret",
          "body changed by one byte",
          "signed for the local --url, not the public URL",
          "malformed signature header",
          "same id replayed inside the tolerance",
        ],
      );
      // The handler that rebuilds the URL from its Host header, probed in process (the same code path).
      const probe = await runProbe({
        target: new URL(naive.url),
        publicUrl: new URL(publicVoiceUrl),
        platform: twilioPlatform,
        scheme: getScheme("twilio"),
        settings: { purpose: "sign" },
        signer,
        toleranceSeconds: 300,
        timeoutMs: 5000,
        dispatcher,
      });
      const wrong = probe.cases
        .filter((entry) => entry.outcome !== "as-expected" && entry.outcome !== "skipped")
        .map((entry) => `${entry.name}: ${entry.outcome}`);
      assert.deepEqual(wrong, ["valid signature for the public URL: wrongly-refused", "signed for the local --url, not the public URL: wrongly-accepted"]);
      // --platform twilio: its scheme, and its form content type, by default.
      const signed = await runInProcess(["sign", "-", "--platform", "twilio", "--request-url", publicVoiceUrl], {
        env: { VWH_SECRET: token },
        input: "CallSid=CA1&Digits=1",
      });
      assert.equal(signed.code, 0, signed.stderr);
      assert.match(signed.stdout, new RegExp(`^# signed URL: ${publicVoiceUrl}$`, "m"));
      assert.match(signed.stdout, /^content-type: application\/x-www-form-urlencoded; charset=UTF-8$/m);
      assert.match(
        signed.stdout,
        new RegExp(
          `^x-twilio-signature: ${twilio.getExpectedTwilioSignature(token, publicVoiceUrl, { CallSid: "CA1", Digits: "1" }).replace(/[+/]/g, "\\$&")}$`,
          "m",
        ),
      );
    } finally {
      await good.close();
      await naive.close();
    }
  });
});
