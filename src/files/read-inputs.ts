/** Every input `vwh simulate` takes: call flows, recordings (JSON) and dead-letter files (JSON lines). */
import { isDeadLetterFile, loadDeadLetters } from "./dead-letters.js";
import { loadFlow, type LoadedFlow } from "./call-flow.js";
import type { PlatformId } from "../platforms/registry.js";

/** Loads every file first so that a bad one stops the run before anything is sent. */
export async function loadFlows(files: readonly string[], platform: PlatformId = "vwh"): Promise<LoadedFlow[]> {
  const flows: LoadedFlow[] = [];
  for (const file of files) flows.push(isDeadLetterFile(file) ? await loadDeadLetters(file, platform) : await loadFlow(file, platform));
  return flows;
}
