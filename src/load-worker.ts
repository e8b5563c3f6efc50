/** A worker thread of `--workers` (see load-workers.ts): runs its share of the calls, posts its aggregates. */
import { parentPort, workerData } from "node:worker_threads";
import { createDispatcher } from "./delivery.js";
import { runFastLoad } from "./load.js";
import type { WorkerMessage, WorkerShare } from "./load-workers.js";
import { resolveSigning } from "./signing-options.js";

const share = workerData as WorkerShare;
const port = parentPort!;
const post = (message: WorkerMessage) => port.postMessage(message);
const stopped = new Int32Array(share.stop);
const dispatcher = createDispatcher(1);
let lastProgress = 0;

try {
  const result = await runFastLoad(
    share.flows,
    {
      ...share.simulation,
      target: new URL(share.target),
      signer: resolveSigning(share.signing, process.env, "sign").signer,
      dispatcher,
      ...(share.deadLetters && { deadLetter: async (entry) => post({ type: "dead-letter", entry }) }),
    },
    {
      ...share.load,
      shouldStop: () => Atomics.load(stopped, 0) !== 0,
      onCallFinished: (stats) => {
        const done = stats.callsPassed + stats.callsFailed;
        const at = Date.now();
        if (at - lastProgress >= 100 || done === share.load.calls) {
          lastProgress = at;
          post({ type: "progress", done });
        }
      },
    },
  );
  if (result.unreachable !== undefined || result.bailed) Atomics.store(stopped, 0, 1);
  post({ type: "done", stats: result.stats.toData(), unreachable: result.unreachable, bailed: result.bailed });
} finally {
  await dispatcher.close();
}
