/**
 * Everything one simulation run is told: where to send, how to sign, which faults to inject, and what touches the world
 * (clock, wait, transport), so tests inject them.
 */
import type { Dispatcher } from "undici";
import type { DeadLetter } from "../files/dead-letters.js";
import { type Transport } from "../transport/undici.js";
import { type LoadedFlow } from "../files/call-flow.js";
import type { PlatformRun } from "../platforms/types.js";
import { type RetryPolicy } from "./retry-policy.js";
import type { Signer } from "../signing/types.js";
import { type EventResult, type TurnResult } from "./results.js";

/** How one platform's webhooks are signed in a run: its own scheme and the headers that carry it. */
export interface PlatformSigning {
  signer: Signer | undefined;
  signatureHeaders: readonly string[];
}

export interface SimulationListener {
  flowStarted?(flow: LoadedFlow, callId: string): void;
  eventFinished?(flow: LoadedFlow, result: EventResult): void;
  turnStarted?(flow: LoadedFlow, step: number, label: string): void;
  turnFinished?(flow: LoadedFlow, turn: TurnResult): void;
}

export interface FaultOptions {
  /** Share of events delivered a second time (0..1). */
  duplicates: number;
  /** Shuffle events within windows of this size (0 or 1: in order). */
  reorderWindow: number;
  seed: number;
  bail: boolean;
}

export interface SimulationOptions {
  target: URL;
  /** The URL the platform is configured with, which it signs (the tunnel's public URL); default: target. */
  publicUrl?: URL;
  /** Caller scripts: a call over this many webhooks fails as a loop. */
  maxHops?: number;
  /** Platform settings from flags (a script's own `settings` fill the rest). */
  platformSettings?: Readonly<Record<string, unknown>>;
  /** Per platform id: its run-level resources (`Platform.openRun`), opened by the caller; else the run opens them. */
  platformRuns?: Readonly<Record<string, PlatformRun>>;
  /** Absent only with keepSignatures: recorded requests go out with the headers they came with. */
  signer: Signer | undefined;
  /** Headers that carry the scheme's signature (dropped from recorded requests before re-signing). */
  signatureHeaders: readonly string[];
  /** Per platform id: its own default scheme, when --scheme was not given (a flow's platform decides). */
  platformSigning?: Readonly<Record<string, PlatformSigning>>;
  /** Stops the run (Ctrl-C): in-flight requests and waits are abandoned, finished events are kept. */
  stop?: AbortSignal;
  keepSignatures?: boolean;
  /** Keep what was sent and what came back for passing events too (--verbose); failed ones always keep it. */
  verbose?: boolean;
  /** False: keep no exchanges at all (load mode counts failures, it does not show them; a failing handler would cost a pretty-print per event). */
  evidence?: boolean;
  /** Compare each reply with the one recorded beside the request (--compare-replies). */
  compareReplies?: boolean;
  policy: RetryPolicy;
  faults: FaultOptions;
  budgetMs: number;
  strictLatency: boolean;
  /** Failed deliveries of webhooks whose reply the platform ignores (status callbacks) fail instead of warning. */
  strictEvents?: boolean;
  /** Wait each event's after_ms before sending it, as the platform would. */
  realtime: boolean;
  dispatcher: Dispatcher;
  /** How attempts go out (default: undici's `deliver` on `dispatcher`); load mode passes the fast client. */
  transport?: Transport;
  /** Called for each event that exhausted its retries (--dlq). */
  deadLetter?: (entry: DeadLetter) => Promise<void>;
  /** Wall clock in ms, also timing each reply's latency (injectable for tests: a fake clock makes latency exact). */
  now?: () => number;
  wait?: (ms: number) => Promise<unknown>;
  /** Media streams: after each 20 ms, wait until the agent has read it (ping/pong), so a fake clock gives the same figures every run. */
  mediaLockstep?: boolean;
  listener?: SimulationListener;
}

// Never forwarded from a recording: they describe the old connection, not the request.
