/** `vwh platforms`: every platform vwh can play, what each supports, and where its page is (docs/platforms/<id>.md, shipped in the package). */
import { globalOptionsSchema, parseOptions } from "../cli/parse-options.js";
import { loadPlatform, platformIds } from "../platforms/registry.js";
import type { Platform } from "../platforms/types.js";
import { createOutput, type Streams } from "../ui/output.js";
import { join } from "node:path";
import { packageRoot } from "../core/self-tarball.js";

export interface PlatformDescription {
  id: string;
  summary: string;
  scheme: string;
  profile: string | null;
  events: { type: string; waits: boolean; description: string }[];
  actions: string[];
  caller_steps: string[];
  starters: string[];
  /** The platform's page: what vwh sends and checks, what is not simulated, the vendor sources. */
  docs: string;
}

export function describePlatform(platform: Platform): PlatformDescription {
  return {
    id: platform.id,
    summary: platform.summary,
    scheme: platform.scheme,
    profile: platform.profile ?? null,
    events: Object.entries(platform.events).map(([type, spec]) => ({ type, waits: spec.waits, description: spec.description })),
    actions: [...platform.actions],
    caller_steps: platform.callerInputs.filter((kind) => kind !== "connect"),
    starters: platform.starters.map((starter) => starter.id),
    docs: `docs/platforms/${platform.id}.md`,
  };
}

export async function platformsCommand(rawOptions: unknown, streams?: Streams): Promise<void> {
  const options = parseOptions(globalOptionsSchema, rawOptions);
  const output = createOutput(options, process.env, streams);
  const described = await Promise.all(platformIds.map(async (id) => describePlatform(await loadPlatform(id))));
  if (output.json) {
    output.out(JSON.stringify({ platforms: described }, null, 2));
    return;
  }
  const { colors } = output;
  for (const platform of described) {
    output.out(`${colors.bold(platform.id.padEnd(8))} ${platform.summary}`);
    output.out(
      colors.dim(
        `         scheme ${platform.scheme} · profile ${platform.profile ?? "none"} · ${platform.events.length} event types (${platform.events.filter((event) => event.waits).length} wait for a reply)`,
      ),
    );
    output.out(colors.dim(`         actions: ${platform.actions.join(", ")}`));
    output.out(colors.dim(`         caller steps: ${platform.caller_steps.join(", ")} · starters: ${platform.starters.join(", ")}`));
    output.out(colors.dim(`         details and sources: ${join(packageRoot, platform.docs)}`));
  }
  output.out(colors.dim(`\nPick one with --platform <id> (or VWH_PLATFORM, or platform in vwh.config.json); a file's own "platform" wins.`));
}
