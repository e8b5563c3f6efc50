/**
 * Running a caller script (README: Platforms and caller scripts): vwh plays the platform through its CallDriver — sends the first
 * webhook, hands each reply back, gives the caller's next step when the platform listens — and checks
 * each step's expectations over every webhook of its turn. Delivery (signing, retries, duplicates, dead
 * letters) is the same as for scripted flows.
 */
import { defaultMaxHops } from "../core/limits.js";
import { dirname, resolve } from "node:path";
import { callerInput, describeStep, type ScriptStep, type TurnExpectation } from "../files/caller-script.js";
import { checkNative, compareActions, partialMismatches, valueMismatch } from "../checks/expectations.js";
import { showValue, type Finding } from "../core/findings.js";
import { callInfo, type PlannedEvent } from "./expand-flow.js";
import { randomId } from "../core/ids.js";
import { type Expectation } from "../files/expectation-schema.js";
import { type LoadedFlow } from "../files/call-flow.js";
import type { Action, CallDriver, CallWebhook, DeliveryOutcome, EndReason, NativeDocument } from "../platforms/types.js";
import { checkMedia, textActions, textNative, type StreamScript, type StreamStep, type TurnMedia } from "../media/script.js";
import type { Random } from "../core/random.js";
import { accepted, deliverAndCheck } from "./deliver-event.js";
import { deliveryOrder, type CallOverrides } from "./plan.js";
import { deliveryUrl } from "./address.js";
import { type CallHandlers, type FlowCallOutcome, type RunContext, stopReason } from "./context.js";
import { type EventResult, type NotExecuted, type TurnResult } from "./results.js";

/** What the platform read of a reply it does not parse: nothing. */
const unreadReply = () => ({ native: undefined, actions: [], failures: [], warnings: [] });

interface Turn {
  step: number;
  label: string;
  expect: TurnExpectation | undefined;
  /** What the platform executed: a turn's says and actions. */
  actions: Action[];
  /** What the handler replied in the turn (what the platform waits on). */
  replied: Action[];
  natives: (NativeDocument | undefined)[];
  failures: Finding[];
  ended: EndReason | undefined;
  /** The figures of the turn's media stream, when it ran on one. */
  media: TurnMedia | undefined;
  /** What the platform said about the turn that is not a failure. */
  notes: string[];
}

function newTurn(steps: readonly ScriptStep[], index: number, label?: string): Turn {
  const step = steps[index];
  return {
    step: index,
    label: label ?? (step ? describeStep(step) : "hangup"),
    expect: step?.expect,
    actions: [],
    replied: [],
    natives: [],
    failures: [],
    ended: undefined,
    media: undefined,
    notes: [],
  };
}

const textOf = (action: Action): string | undefined => (typeof action["text"] === "string" ? action["text"] : undefined);
/** Everything spoken (or played as text) in a turn, as `says` matches it and the reports show it. */
const spokenIn = (actions: readonly Action[]): string =>
  actions
    .map(textOf)
    .filter((text) => text !== undefined)
    .join(" ");

/** The inputs of a listen action as its platform normalised them (a string or a list). */
const inputsOf = (action: Action): string[] =>
  Array.isArray(action["input"]) ? action["input"].map(String) : typeof action["input"] === "string" ? [action["input"]] : [];

/** `listens_for`: some listen action of the turn takes the input; one without any stated input takes what its platform takes (vwh: both). */
function checkListensFor(input: string, actions: readonly Action[]): Finding[] {
  const listens = actions.filter((action) => action.type === "listen");
  if (listens.some((action) => action["input"] === undefined || inputsOf(action).includes(input))) return [];
  const got = listens.length === 0 ? "no listen" : `a listen for ${listens.flatMap(inputsOf).join(", ") || "nothing"}`;
  return [{ kind: "expect", path: "listens_for", message: `expected the platform to listen for ${input}, got ${got}` }];
}

/** The turn-level expectations: actions, says, ends, transfers_to, listens_for, result, native (status and latency are per webhook). */
export function checkTurn(turn: Turn): Finding[] {
  const expect = turn.expect;
  if (!expect) return [];
  const findings: Finding[] = [];
  if (expect.actions) findings.push(...compareActions(expect.actions, turn.actions, "actions"));
  if (expect.says !== undefined) {
    const mismatch = valueMismatch(expect.says, spokenIn(turn.actions));
    if (mismatch) findings.push({ kind: "expect", path: "says", message: mismatch });
  }
  const wanted = expect.ends;
  if (wanted === false && turn.ended) findings.push({ kind: "expect", path: "ends", message: `expected the call to go on, but it ended (${turn.ended})` });
  if (wanted === true && !turn.ended) findings.push({ kind: "expect", path: "ends", message: "expected the call to end in this turn, but it went on" });
  if (typeof wanted === "string" && turn.ended !== wanted)
    findings.push({
      kind: "expect",
      path: "ends",
      message: `expected the call to end (${wanted}), ${turn.ended ? `but it ended (${turn.ended})` : "but it went on"}`,
    });
  if (expect.transfers_to !== undefined) {
    const target = turn.actions.find((action) => action.type === "transfer")?.["to"];
    const mismatch = target === undefined ? "expected a transfer, got none" : valueMismatch(expect.transfers_to, target);
    if (mismatch) findings.push({ kind: "expect", path: "transfers_to", message: mismatch });
  }
  if (expect.listens_for !== undefined) findings.push(...checkListensFor(expect.listens_for, turn.actions));
  if (expect.result !== undefined) {
    const toolResults = turn.actions.filter((action) => action.type === "tool_result");
    // Partial, like actions: the fields the expectation names (matchers allowed), `{ "equals": … }` for the whole value.
    // A tool that answered with an error (no result) says so: the error is what the developer needs.
    const misses = toolResults.map((action): Finding[] =>
      action["result"] === undefined && action["error"] !== undefined
        ? [{ kind: "expect", path: "result", message: `expected a tool result, got the tool's error ${showValue(action["error"])}` }]
        : partialMismatches(expect.result, action["result"], "result"),
    );
    if (toolResults.length === 0) findings.push({ kind: "expect", path: "result", message: "expected a tool result, got none" });
    else if (!misses.some((list) => list.length === 0)) findings.push(...misses[0]!);
  }
  if (expect.native) findings.push(...checkNative(expect.native, turn.natives));
  findings.push(...checkMedia(expect, turn.media));
  return findings;
}

/** Replied in the turn but not executed in it (the same action objects travel from the reply to the driver's moves). */
function unexecuted(turn: Turn): NotExecuted[] {
  const executed = new Set(turn.actions);
  return turn.replied
    .filter((action) => !executed.has(action))
    .map((action) => ({ type: action.type, path: action.path, ...(textOf(action) !== undefined && { text: textOf(action)! }) }));
}

/** Signs a media stream's WebSocket upgrade as a GET of its URL with the platform's scheme (empty body, a fresh id). */
function upgradeSigner(context: RunContext, platformId: string): ((addressed: URL) => Record<string, string>) | undefined {
  const signer = context.options.platformSigning?.[platformId]?.signer ?? context.options.signer;
  if (!signer) return undefined;
  return (addressed) =>
    signer.sign({
      id: randomId("upg"),
      timestamp: Math.floor(context.now() / 1000),
      body: Buffer.alloc(0),
      method: "GET",
      url: addressed.href,
      contentType: "",
    }).headers;
}

/** A webhook of a reactive call as the delivery machinery sees it. */
function plannedWebhook(webhook: CallWebhook, index: number, sequence: number, callId: string, expect: TurnExpectation | undefined): PlannedEvent {
  const perWebhook: Expectation | undefined =
    expect?.status !== undefined || expect?.max_latency_ms !== undefined
      ? { ...(expect.status !== undefined && { status: expect.status }), ...(expect.max_latency_ms !== undefined && { max_latency_ms: expect.max_latency_ms }) }
      : undefined;
  return {
    index,
    eventType: webhook.eventType,
    eventId: webhook.eventId,
    callId,
    sequence,
    method: webhook.request.method,
    body: webhook.request.body,
    contentType: webhook.request.contentType ?? "application/octet-stream",
    origin: { kind: "built", request: webhook.request },
    expect: perWebhook,
    afterMs: webhook.afterMs,
  };
}

export async function runScriptCall(
  loaded: LoadedFlow,
  steps: readonly ScriptStep[],
  context: RunContext,
  planRandom: Random,
  overrides: CallOverrides,
  handlers: CallHandlers,
  shouldStop: () => boolean,
): Promise<FlowCallOutcome> {
  const { options } = context;
  const { flow, platform } = loaded;
  const callId = overrides.callId ?? (overrides.freshIds ? undefined : flow.call?.call_id) ?? randomId("call");
  handlers.onStart?.(callId);
  const maxHops = options.maxHops ?? defaultMaxHops;
  const driver: CallDriver = await platform.startCall({
    call: callInfo(flow, callId),
    url: options.publicUrl ?? options.target,
    start: new Date(context.now()),
    newId: randomId,
    settings: { ...flow.settings, ...options.platformSettings, ...options.platformRuns?.[platform.id]?.settings },
    now: context.now,
    wait: context.wait,
  });

  const turns: TurnResult[] = [];
  let passed = true;
  let hops = 0;
  let sequence = 0;
  let stopped: FlowCallOutcome["stopped"];
  // The first step without a caller action is the call connecting; otherwise connecting is a turn of its own.
  const firstIsConnect = callerInput(steps[0]!).kind === "connect";
  let stepIndex = firstIsConnect ? 0 : -1;
  let turn = firstIsConnect ? newTurn(steps, 0) : { ...newTurn(steps, -1, "connect"), expect: undefined };
  handlers.onTurnStart?.(turn.step, turn.label);
  // A step that acts during playback (after_ms from the start of the turn's audio) is announced to the
  // driver when the turn before it starts, so the platform can cut into its prompts.
  const announceNext = () => {
    const next = steps[stepIndex + 1];
    const kind = next && callerInput(next).kind;
    if (next?.after_ms !== undefined && platform.actsDuringPlayback?.some((acting) => acting === kind)) driver.actDuringPlayback?.(next.after_ms);
  };
  driver.caller({ kind: "connect" }, firstIsConnect ? steps[0]!.after_ms : undefined);
  announceNext();
  // Webhooks the platform does not wait on, held back so --reorder can shuffle them.
  let held: CallWebhook[] = [];

  const finishTurn = () => {
    const failures = [...turn.failures, ...checkTurn(turn)];
    const notExecuted = driver.reportsExecution ? unexecuted(turn) : [];
    const result: TurnResult = {
      step: turn.step,
      label: turn.label,
      actions: turn.actions.map((action) => action.type),
      says: spokenIn(turn.actions),
      ...(notExecuted.length > 0 && { notExecuted }),
      ...(turn.notes.length > 0 && { notes: turn.notes }),
      ended: turn.ended,
      failures,
      passed: failures.length === 0,
      ...(turn.media && { media: turn.media }),
    };
    passed &&= result.passed;
    turns.push(result);
    handlers.onTurn?.(result);
  };

  const send = async (webhook: CallWebhook): Promise<boolean> => {
    if (options.realtime && webhook.afterMs > 0) await context.wait(webhook.afterMs);
    const number = ++sequence;
    const planned = plannedWebhook(webhook, number - 1, number, callId, turn.expect);
    let delivered: { result: EventResult; outcome: DeliveryOutcome };
    if (deliveryUrl(webhook.request.url, options) === undefined) {
      // A URL on another host: a real platform would fetch it; vwh only talks to the handler under test.
      const { origin, protocol } = webhook.request.url;
      // file:, javascript: and data: URLs have the opaque origin "null": name their scheme instead.
      const message = `not followed: ${origin === "null" ? `a ${protocol} URL` : origin} is not the handler's origin (${(options.publicUrl ?? options.target).origin})`;
      const result: EventResult = {
        index: planned.index,
        sequence: planned.sequence,
        eventType: planned.eventType,
        eventId: planned.eventId,
        status: undefined,
        latencyMs: undefined,
        attempts: 0,
        passed: false,
        failures: [{ kind: "rule", path: webhook.request.url.href, message }],
        warnings: [],
        instructionTypes: [],
        deadLettered: false,
        step: turn.step,
        duplicate: undefined,
      };
      delivered = { result, outcome: { ok: false, message } };
    } else {
      const { result, parsed, outcome } = await deliverAndCheck(planned, loaded, planRandom.chance(options.faults.duplicates), context, turn.step);
      delivered = {
        result,
        // A 2xx the platform does not read (a Telnyx webhook, a status callback) is still an accepted reply.
        outcome:
          outcome.ok && (parsed || accepted(outcome))
            ? { ok: true, reply: { status: outcome.status, headers: outcome.headers, body: outcome.body }, parsed: parsed ?? unreadReply() }
            : { ok: false, message: outcome.ok ? `status ${outcome.status}` : outcome.message },
      };
      if (parsed && webhook.waits) {
        turn.replied.push(...parsed.actions);
        // A driver that reports what it executes credits the turn itself; otherwise the reply is what runs.
        if (!driver.reportsExecution) turn.actions.push(...parsed.actions);
        turn.natives.push(parsed.native);
      }
    }
    passed &&= delivered.result.passed;
    handlers.onEvent(delivered.result);
    driver.replied(webhook, delivered.outcome);
    stopped = stopReason(delivered.result, context);
    return stopped === undefined;
  };

  /** Ends the open turn and opens the next step's (or the hangup when the script ran out); gives that step. */
  const nextTurn = (): ScriptStep | undefined => {
    finishTurn();
    stepIndex++;
    const step = steps[stepIndex];
    turn = step ? newTurn(steps, stepIndex) : { ...newTurn(steps, stepIndex, "hangup (script ran out)"), expect: undefined };
    handlers.onTurnStart?.(turn.step, turn.label);
    return step;
  };

  // On a media stream the caller's steps are played on the socket, not through the driver.
  const streamStep = (step: ScriptStep | undefined): StreamStep | undefined =>
    step && {
      input: callerInput(step),
      afterMs: step.after_ms,
      audio: step.audio === undefined ? undefined : resolve(dirname(loaded.file), step.audio),
      firstAudioLimitMs: step.expect?.first_audio_ms,
    };
  const streamScript: StreamScript = {
    upcoming: () => streamStep(steps[stepIndex + 1]),
    record: (media, findings) => {
      if (media) turn.media = media;
      if (media?.text) {
        // A text stream's turn reads like a reply: its text is what the agent says.
        turn.actions.push(...textActions(media.text, `stream(${media.protocol})`));
        turn.natives.push(textNative(media.text));
      }
      turn.failures.push(...findings);
    },
    advance: () => streamStep(nextTurn()),
  };

  const flushHeld = async (): Promise<boolean> => {
    const batch = deliveryOrder(held, options.faults.reorderWindow, planRandom);
    held = [];
    for (const webhook of batch) if (!(await send(webhook))) return false;
    return true;
  };

  try {
    for (;;) {
      if (shouldStop()) break;
      const move = await driver.next();
      if (move.kind === "send") {
        if (++hops > maxHops) {
          turn.failures.push({
            kind: "loop",
            message: `more than --max-hops ${maxHops} webhooks in one call: the handler loops (last: ${move.webhook.eventType} to ${move.webhook.request.url.pathname})`,
          });
          finishTurn();
          passed = false;
          break;
        }
        if (!move.webhook.waits && options.faults.reorderWindow > 1) {
          held.push(move.webhook);
          continue;
        }
        if (!(await flushHeld()) || !(await send(move.webhook))) break;
        continue;
      }
      if (!(await flushHeld())) break;
      if (move.kind === "stream") {
        const { playStream } = await import("../media/stream.js");
        const end = await playStream(move.stream, streamScript, {
          callId,
          newId: randomId,
          clock: { now: context.now, wait: context.wait, lockstep: options.mediaLockstep === true },
          target: options.target,
          publicUrl: options.publicUrl,
          firstAudioLimitMs: turn.expect?.first_audio_ms,
          connectTimeoutMs: options.policy.timeoutMs,
          signUpgrade: upgradeSigner(context, platform.id),
          protocols: platform.media ?? {},
        });
        driver.streamEnded(end);
        continue;
      }
      if (move.kind === "note") {
        turn.notes.push(move.message);
        continue;
      }
      if (move.kind === "executed") {
        turn.actions.push(...move.actions);
        continue;
      }
      if (move.kind === "observed") {
        turn.actions.push(...move.actions);
        turn.failures.push(...move.failures);
        continue;
      }
      if (move.kind === "ended") {
        turn.ended = move.reason;
        const next = stepIndex + 1;
        if (next < steps.length) {
          turn.failures.push({
            kind: "script",
            message: `the call ended (${move.reason}) before step ${next + 1} (${describeStep(steps[next]!)}) could happen`,
          });
        }
        finishTurn();
        break;
      }
      // await-caller: this turn is over; the caller takes the next step, or hangs up when the script ran out.
      const step = nextTurn();
      driver.caller(step ? callerInput(step) : { kind: "hangup" }, step?.after_ms);
      announceNext();
    }
  } finally {
    await driver.close();
  }
  return { passed: passed && stopped === undefined ? passed : false, stopped, callId, turns };
}
