/** A worker thread of `--workers` (see load-workers.ts): runs its share of the calls, posts its aggregates. */
import { setTimeout as sleep } from "node:timers/promises";
import { parentPort, workerData } from "node:worker_threads";
import { createDispatcher } from "../../transport/undici.js";
import { runFastLoad } from "./run.js";
import type { LoadStats } from "./stats.js";
import type { WorkerMessage, WorkerShare } from "./workers.js";
import { isPlatformId, loadPlatform } from "../../platforms/registry.js";
import { resolveRunSigning } from "../signing.js";
import { resolveSigning, schemeSettings } from "../../signing/options.js";

const share = workerData as WorkerShare;
const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const stopped = new Int32Array(share.stop);
const dispatcher = createDispatcher(1);
let lastProgress = 0;
/** Calls finished in a phase, posted ten times a second at most (and at its last call). */
const progressPoster = (phase: "warmup" | "run", total: number) => (stats: LoadStats) => {
  const done = stats.callsPassed + stats.callsFailed;
  const at = Date.now();
  if (at - lastProgress >= 100 || done === total) {
    lastProgress = at;
    post({ type: "progress", phase, done });
  }
};
// Ctrl-C reaches the main thread only: it asks each thread to end its run with what finished.
const interrupt = new AbortController();
// --warmup: the main thread says "go" once every thread has warmed up.
let go = () => {};
const released = new Promise<void>((resolve) => {
  go = resolve;
  interrupt.signal.addEventListener("abort", () => resolve(), { once: true });
});
const onMessage = (message: { type: string }) => (message.type === "interrupt" ? interrupt.abort() : message.type === "go" && go());
port.on("message", onMessage);

try {
  const flows = await Promise.all(
    share.flows.map(async ({ file, flow, platform }) => {
      if (!isPlatformId(platform)) throw new Error(`unknown platform ${platform}`); // the main thread loaded it
      return { file, flow, platform: await loadPlatform(platform) };
    }),
  );
  // The same resolution as the main thread's (engine/signing.ts), from plain data.
  const { signer, platformSigning } = resolveRunSigning(
    flows.map((loaded) => loaded.platform),
    flows[0]!.platform,
    {
      chosenScheme: share.signing.scheme,
      settings: schemeSettings(share.signing, "sign"),
      keepSignatures: false,
      createSigner: (scheme) => resolveSigning({ ...share.signing, scheme }, process.env, "sign").signer,
    },
  );
  const result = await runFastLoad(
    flows,
    {
      ...share.simulation,
      target: new URL(share.target),
      ...(share.publicUrl !== undefined && { publicUrl: new URL(share.publicUrl) }),
      ...(platformSigning && { platformSigning }),
      signer,
      dispatcher,
      // Waits (--rate's next start, a retry's backoff) hold no thread: the port keeps it alive while it runs, and after
      // Ctrl-C it ends at once, not at the next start (at a low rate, seconds or minutes later).
      wait: (ms) => sleep(ms, undefined, { ref: false }),
      ...(share.deadLetters && { deadLetter: async (entry) => post({ type: "dead-letter", entry }) }),
    },
    {
      ...share.load,
      stop: interrupt.signal,
      shouldStop: () => Atomics.load(stopped, 0) !== 0,
      onWarmedUp: (warmup) => {
        post({ type: "warmed", warmup });
        return released;
      },
      onWarmupCallFinished: progressPoster("warmup", share.load.warmup ?? 0),
      onCallFinished: progressPoster("run", share.load.calls),
    },
  );
  if (result.unreachable !== undefined || result.bailed) Atomics.store(stopped, 0, 1);
  post({
    type: "done",
    stats: result.stats.toData(),
    unreachable: result.unreachable,
    bailed: result.bailed,
    interrupted: result.interrupted,
    warmup: result.warmup,
  });
} finally {
  port.off("message", onMessage);
  await dispatcher.close();
}
