/**
 * Running the next steps a command prints, verbatim, in a shell, with npm offline (issue 27): shared by the
 * init and export tests.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";

/** The "Next:" block of a command's output, one command per line (comments and all, as a user copies them). */
export function printedSteps(stdout: string): string[] {
  const block = stdout.split("\nNext:\n")[1];
  assert.ok(block, `no next steps in:\n${stdout}`);
  return block
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);
}

/** Runs one printed line in a shell, in `cwd`, with npm offline: only its cache, never the network. */
export function runPrinted(line: string, cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", line], {
      cwd,
      env: {
        ...process.env,
        PATH: `${dirname(process.execPath)}:${process.env["PATH"] ?? ""}`,
        NO_COLOR: "1",
        CI: "true",
        npm_config_offline: "true",
        npm_config_audit: "false",
        npm_config_fund: "false",
        npm_config_update_notifier: "false",
        ...env,
      },
    });
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    child.on("close", (code) => resolve({ code, output }));
  });
}

/**
 * A printed `npm install`, offline. vwh itself always comes from the folder; vwh's dependencies come from
 * the npm cache. A cache without their metadata (a clean CI runner's: `npm ci` stores tarballs only) is
 * filled once from the registry, the folder reset, and the step run offline again.
 */
export async function installOffline(line: string, cwd: string, installsIn = cwd): Promise<{ code: number | null; output: string }> {
  const run = await runPrinted(line, cwd);
  if (run.code === 0 || !/ENOTCACHED|only-if-cached/.test(run.output)) return run;
  const warm = await runPrinted(line, cwd, { npm_config_offline: "false", npm_config_prefer_offline: "true" });
  assert.equal(warm.code, 0, `filling the npm cache: ${warm.output}`);
  await rm(join(installsIn, "node_modules"), { recursive: true, force: true });
  await rm(join(installsIn, "package-lock.json"), { force: true });
  return runPrinted(line, cwd);
}
