/**
 * The running vwh as an npm tarball (`vwh-<version>.tgz`), for what vwh writes into other folders: the
 * Artillery export ships it beside its script, `vwh init` vendors it into the project. `npm pack` of vwh's
 * own folder (an installed copy or a built clone) makes it, with npm's own rules for which files a package
 * holds; its install-time scripts are not run (a clone's `prepack` builds, and the running vwh is built).
 * Packed once per process: every later call gets the same bytes.
 */
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { InputError } from "./errors.js";
import { vwhVersion } from "./version.js";

/** vwh's package folder: dist/src/core/ → ../../../ */
export const packageRoot = fileURLToPath(new URL("../../../", import.meta.url));

export function tarballName(version = vwhVersion()): string {
  return `vwh-${version}.tgz`;
}

/** How to run npm: the npm that started us (npx, npm run) when known, else `npm` on the PATH. */
function npmCommand(env: NodeJS.ProcessEnv): { command: string; args: string[]; shell: boolean } {
  const cli = env["npm_execpath"];
  if (cli && /npm-cli\.c?js$/.test(cli)) return { command: process.execPath, args: [cli], shell: false };
  return { command: "npm", args: [], shell: process.platform === "win32" };
}

function run(
  command: string,
  args: string[],
  options: { shell: boolean; env: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stderr: string; error?: Error }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { shell: options.shell, env: options.env, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr = (stderr + chunk).slice(-4000)));
    child.on("error", (error) => resolve({ code: null, stderr, error }));
    child.on("close", (code) => resolve({ code, stderr }));
  });
}

let packed: Promise<Buffer> | undefined;

async function pack(env: NodeJS.ProcessEnv): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "vwh-pack-"));
  try {
    const npm = npmCommand(env);
    // Offline and quiet: packing a folder needs no registry, and npm's notices are not ours to print.
    const args = [
      ...npm.args,
      "pack",
      packageRoot,
      "--pack-destination",
      dir,
      "--ignore-scripts",
      "--offline",
      "--silent",
      "--no-update-notifier",
      "--no-fund",
      "--no-audit",
    ];
    const result = await run(npm.command, args, { shell: npm.shell, env: { ...env, npm_config_loglevel: "error" } });
    if (result.error || result.code !== 0) {
      const reason = result.error
        ? ((result.error as NodeJS.ErrnoException).code ?? result.error.message)
        : result.stderr.trim().split("\n").at(-1) || `npm exited ${result.code}`;
      throw new InputError(
        `cannot pack the running vwh (${packageRoot}) with npm pack: ${reason}`,
        "install npm, or pass --vwh-spec with a version, a git URL or a tarball",
      );
    }
    return await readFile(join(dir, tarballName()));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The running vwh's tarball bytes (npm pack, once per process). */
export function vwhTarball(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  packed ??= pack(env).catch((error: unknown) => {
    packed = undefined;
    throw error;
  });
  return packed;
}
