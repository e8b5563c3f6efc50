/**
 * Running the next steps a command prints, verbatim, in a shell, npm offline but for the install (issue 27):
 * shared by the init and export tests.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { dirname } from "node:path";

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
 * A printed `npm install`, run once, npm preferring its cache: vwh itself always comes from the folder (the
 * callers check package-lock.json), vwh's dependencies from the cache, and only metadata the cache lacks (a
 * clean CI runner's `npm ci` stores tarballs only) from the registry. Run offline first, a cold cache cost
 * three installs per test (the offline one failing, one filling the cache, the offline one again): on a
 * clean clone 35 s of CPU and ~50 s of wall time in the suite, against one install's ~7 s of CPU.
 */
export function installPrinted(line: string, cwd: string): Promise<{ code: number | null; output: string }> {
  return runPrinted(line, cwd, { npm_config_offline: "false", npm_config_prefer_offline: "true" });
}
