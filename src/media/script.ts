/**
 * What a media session needs from the caller script and gives back (issue 17): the engine
 * (script-run.ts) hands the remaining steps over one by one and keeps the turns; the session plays them
 * on the socket and reports each turn's figures.
 */
import type { TurnExpectation } from "../files/caller-script.js";
import type { Finding } from "../core/findings.js";
import type { Action, CallerInput, NativeDocument } from "../platforms/types.js";
import { jsonDocument } from "../platforms/shared/json-document.js";

export interface StreamStep {
  input: CallerInput;
  afterMs: number | undefined;
  /** A say step's own recording (absolute path), instead of the synthesised stand-in. */
  audio: string | undefined;
  /** The step's `expect.first_audio_ms`: the session waits a little longer than that for a reply. */
  firstAudioLimitMs: number | undefined;
}

/**
 * What an agent that answers in text did in one turn: the "LLM turn" that ConversationRelay, Retell's
 * custom-LLM socket and Vapi's custom-LLM stream share (the first token is TurnMedia.firstAudioMs).
 */
export interface TurnText {
  /** The agent's text, tokens joined as they came (bounded): sent twice, it shows twice. */
  text: string;
  /** How many text messages (tokens, chunks) it came in. */
  tokens: number;
  /** Audio the agent had the platform play (URLs). */
  plays: string[];
  /** Keys the agent sent down the line (ConversationRelay sendDigits). */
  digits: string;
  /** Tool calls the agent made, with the result it reported where it did. */
  toolCalls: { id: string; name: string; arguments: string; result: string | undefined }[];
  /** The agent ended the session (ConversationRelay end, Retell end_call), with the data it handed over. */
  end: { handoffData: string | undefined } | undefined;
  /** The number the agent transferred the call to (Retell transfer_number). */
  transferTo: string | undefined;
  /** Messages of an answer the caller talked over (or a newer request superseded) that still came: dropped, as the platform drops them. */
  staleTokens: number;
  /** The caller talked over speech the agent had made not interruptible: no interruption happened. */
  notInterruptible: boolean;
}

export const emptyTurnText = (): TurnText => ({
  text: "",
  tokens: 0,
  plays: [],
  digits: "",
  toolCalls: [],
  end: undefined,
  transferTo: undefined,
  staleTokens: 0,
  notInterruptible: false,
});

/**
 * A text turn as normalised actions, so `says`, `actions` and `transfers_to` read it as they read a
 * webhook reply: the text as a speak, each play, the keys sent (a play of digits, as Twilio's
 * `<Play digits>`), the transfer.
 */
export function textActions(said: TurnText, path: string): Action[] {
  const actions: Action[] = [];
  if (said.text.trim()) actions.push({ type: "speak", path, text: said.text });
  for (const url of said.plays) actions.push({ type: "play", path, url });
  if (said.digits) actions.push({ type: "play", path, digits: said.digits });
  for (const call of said.toolCalls) if (call.result !== undefined) actions.push({ type: "tool_result", path, name: call.name, result: call.result });
  if (said.transferTo !== undefined) actions.push({ type: "transfer", path, to: said.transferTo });
  return actions;
}

/** A text turn for `expect.native`: `text`, `tokens`, `plays[0]`, `digits`, `tool_calls[0].name`, `end.handoffData`, `transfer_to`, `stale_tokens`. */
export function textNative(said: TurnText): NativeDocument {
  return jsonDocument(textJson(said));
}

/** The LLM turn as the reports and `expect.native` spell it. */
export const textJson = (said: TurnText) => ({
  text: said.text,
  tokens: said.tokens,
  plays: said.plays,
  digits: said.digits,
  tool_calls: said.toolCalls.map((call) => ({ id: call.id, name: call.name, arguments: call.arguments, result: call.result ?? null })),
  end: said.end ? { handoffData: said.end.handoffData ?? null } : null,
  transfer_to: said.transferTo ?? null,
  stale_tokens: said.staleTokens,
  not_interruptible: said.notInterruptible,
});

/** The figures of one turn on a media stream. */
export interface TurnMedia {
  protocol: string;
  /** What the first figure measures: agent audio (audio streams) or the first text token (ConversationRelay). */
  measures: "audio" | "token";
  /** From the caller's last input (the stream's start, for the turn that opened it) to the agent's first audio or token, in whole ms. */
  firstAudioMs: number | undefined;
  /** Agent audio received in the turn (ms of playback); text streams: the reply's speaking time. */
  agentAudioMs: number;
  /** Set when the caller interrupted the agent in this turn: whether the agent stopped (clear). */
  stoppedOnInterrupt: boolean | undefined;
  /** Marks the agent sent in this turn, and marks vwh acknowledged in it (an interruption's clear acknowledges the previous turn's). */
  marks: { sent: number; acknowledged: number };
  /** Text protocols: what the agent said and did in the turn. */
  text?: TurnText;
}

export interface StreamScript {
  /** The step after the open turn, without taking it (an interrupt must start while the agent talks). */
  upcoming(): StreamStep | undefined;
  /** Sets the open turn's figures and findings. */
  record(media: TurnMedia | undefined, findings: Finding[]): void;
  /** Finishes the open turn and opens the next step's; undefined when the script ran out (the caller hangs up). */
  advance(): StreamStep | undefined;
}

/** The run's clock. `lockstep`: after each 20 ms, wait until the agent has read what was sent (a WebSocket ping answered), so a fake clock gives the same figures every run. */
export interface StreamClock {
  now(): number;
  wait(ms: number): Promise<unknown>;
  lockstep: boolean;
}

/** How long the platform waits for the agent, and what counts as its turn being over (README "Media streams"). */
export const streamTiming = {
  /** The agent's turn is over when its audio has played out and nothing new came for this long. */
  quietMs: 600,
  /** No reply within this long after the caller's input: the turn has no agent audio. */
  replyWindowMs: 5000,
  /** An agent still talking after this long is cut off (a finding). */
  maxTurnMs: 60_000,
  /** A key press: the DTMF message, then this long before the next key. */
  digitMs: 300,
  /** An interrupt starts this long into the agent's audio, unless the step gives after_ms. */
  interruptAfterMs: 500,
  /** After the interruption's speech ends, the agent has this long to clear. */
  clearGraceMs: 1000,
} as const;

/** The media-stream expectations (issue 17): first_audio_ms and stops_on_interrupt. */
export function checkMedia(expect: TurnExpectation, media: TurnMedia | undefined): Finding[] {
  const findings: Finding[] = [];
  const what = media?.measures === "token" ? "first token" : "first audio";
  if (expect.first_audio_ms !== undefined) {
    const limit = expect.first_audio_ms;
    if (!media) findings.push({ kind: "expect", path: "first_audio_ms", message: `expected agent audio within ${limit} ms, but the turn had no media stream` });
    else if (media.firstAudioMs === undefined)
      findings.push({ kind: "expect", path: "first_audio_ms", message: `expected the agent's ${what} within ${limit} ms, got none` });
    else if (media.firstAudioMs > limit)
      findings.push({ kind: "expect", path: "first_audio_ms", message: `expected the agent's ${what} within ${limit} ms, got ${media.firstAudioMs} ms` });
  }
  if (expect.stops_on_interrupt !== undefined) {
    const stopped = media?.stoppedOnInterrupt;
    if (stopped === undefined)
      findings.push({
        kind: "expect",
        path: "stops_on_interrupt",
        message: "expected an interruption on the media stream, but the caller did not talk over the agent in this turn",
      });
    else if (stopped !== expect.stops_on_interrupt) {
      findings.push({
        kind: "expect",
        path: "stops_on_interrupt",
        message: stopped
          ? "expected the agent to keep talking, but it stopped when interrupted"
          : "expected the agent to stop (clear) when the caller interrupted, but it kept talking",
      });
    }
  }
  return findings;
}
