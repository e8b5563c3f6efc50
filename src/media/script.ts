/**
 * What a media session needs from the caller script and gives back (issue 17): the engine
 * (script-run.ts) hands the remaining steps over one by one and keeps the turns; the session plays them
 * on the socket and reports each turn's figures.
 */
import type { TurnExpectation } from "../files/caller-script.js";
import type { Finding } from "../core/findings.js";
import type { CallerInput } from "../platforms/types.js";

export interface StreamStep {
  input: CallerInput;
  afterMs: number | undefined;
  /** A say step's own recording (absolute path), instead of the synthesised stand-in. */
  audio: string | undefined;
  /** The step's `expect.first_audio_ms`: the session waits a little longer than that for a reply. */
  firstAudioLimitMs: number | undefined;
}

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
    else if (media.firstAudioMs === undefined) findings.push({ kind: "expect", path: "first_audio_ms", message: `expected the agent's ${what} within ${limit} ms, got none` });
    else if (media.firstAudioMs > limit) findings.push({ kind: "expect", path: "first_audio_ms", message: `expected the agent's ${what} within ${limit} ms, got ${media.firstAudioMs} ms` });
  }
  if (expect.stops_on_interrupt !== undefined) {
    const stopped = media?.stoppedOnInterrupt;
    if (stopped === undefined) findings.push({ kind: "expect", path: "stops_on_interrupt", message: "expected an interruption on the media stream, but the caller did not talk over the agent in this turn" });
    else if (stopped !== expect.stops_on_interrupt) {
      findings.push({ kind: "expect", path: "stops_on_interrupt", message: stopped ? "expected the agent to keep talking, but it stopped when interrupted" : "expected the agent to stop (clear) when the caller interrupted, but it kept talking" });
    }
  }
  return findings;
}
