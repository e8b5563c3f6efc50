/**
 * The running vwh as an npm tarball (`vwh-<version>.tgz`), for what vwh writes into other folders: the
 * Artillery export ships it beside its script, `vwh init` vendors it into the project. `npm pack` of vwh's
 * own folder (an installed copy or a built clone) makes it, with npm's own rules for which files a package
 * holds; its install-time scripts are not run (a clone's `prepack` builds, and the running vwh is built).
 * Packed once per process, and kept in the user's cache folder for as long as the package's files are
 * unchanged (npm pack takes seconds of CPU): a later `vwh init` or export, or a parallel one, reuses it.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { homedir, tmpdir } from "node:os";
import { isAbsolute, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { acquireLock, LockHeld } from "../lib/socket-lock.js";
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

async function npmPack(env: NodeJS.ProcessEnv): Promise<Buffer> {
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

/**
 * What the package's files are now: the path, size and modification time of every file its package.json's
 * `files` names, and of package.json. The same fingerprint means npm pack would pack the same bytes.
 * Undefined where the manifest names no files (npm would pack the whole folder: not worth walking).
 */
export async function packageFingerprint(root: string): Promise<string | undefined> {
  const manifest = JSON.parse(await readFile(join(root, "package.json"), "utf8")) as { files?: unknown };
  if (!Array.isArray(manifest.files) || !manifest.files.every((entry) => typeof entry === "string")) return undefined;
  const files: string[] = [join(root, "package.json")];
  for (const entry of manifest.files as string[]) {
    const path = join(root, entry);
    const info = await stat(path).catch(() => undefined);
    if (info?.isDirectory()) {
      for (const found of await readdir(path, { recursive: true, withFileTypes: true })) if (found.isFile()) files.push(join(found.parentPath, found.name));
    } else if (info) {
      files.push(path);
    }
  }
  const hash = createHash("sha256");
  const facts = await Promise.all(files.sort().map(async (file) => [relative(root, file), await stat(file)] as const));
  for (const [path, info] of facts) hash.update(`${path}\0${info.size}\0${info.mtimeMs}\n`);
  return hash.digest("hex").slice(0, 20);
}

/** The user's own cache folder: a shared temporary one would let another user plant the tarball vwh vendors. */
function cacheFolder(env: NodeJS.ProcessEnv): string {
  // The XDG base directory rules: a relative XDG_CACHE_HOME is ignored.
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "vwh", "packed");
}

export interface PackOptions {
  env: NodeJS.ProcessEnv;
  /** The package folder to pack (vwh's own by default). */
  root?: string;
  /** What packs it (npm pack by default). */
  pack?: (env: NodeJS.ProcessEnv) => Promise<Buffer>;
  /** How long to wait for another process packing the same files before packing too. */
  waitMs?: number;
}

/**
 * The package's tarball: from the cache when its files are unchanged, else packed and cached. Of several
 * processes packing the same files at once, one packs (the cache file's lock) and the others wait for it.
 * Any trouble with the cache (no home, a read-only folder) only means packing without it.
 */
export async function cachedTarball({ env, root = packageRoot, pack = npmPack, waitMs = 120_000 }: PackOptions): Promise<Buffer> {
  const fingerprint = await packageFingerprint(root).catch(() => undefined);
  if (fingerprint === undefined) return pack(env);
  const folder = cacheFolder(env);
  const prefix = `vwh-${vwhVersion()}-${createHash("sha256").update(root).digest("hex").slice(0, 8)}-`;
  const file = join(folder, `${prefix}${fingerprint}.tgz`);
  const cached = () => readFile(file).catch(() => undefined);
  const hit = await cached();
  if (hit) return hit;
  try {
    await mkdir(folder, { recursive: true, mode: 0o700 });
  } catch {
    return pack(env);
  }
  const deadline = Date.now() + waitMs;
  for (;;) {
    let lock;
    try {
      lock = await acquireLock(file);
    } catch (error) {
      if (!(error instanceof LockHeld) || Date.now() > deadline) return pack(env);
      await sleep(100);
      const packedMeanwhile = await cached();
      if (packedMeanwhile) return packedMeanwhile;
      continue;
    }
    try {
      const packedMeanwhile = await cached();
      if (packedMeanwhile) return packedMeanwhile;
      const bytes = await pack(env);
      await writeFileAtomic(file, bytes).catch(() => undefined);
      // Older packs of this folder are stale now.
      for (const name of await readdir(folder).catch(() => []))
        if (name.startsWith(prefix) && name.endsWith(".tgz") && name !== `${prefix}${fingerprint}.tgz`) await rm(join(folder, name), { force: true });
      return bytes;
    } finally {
      await lock.release();
    }
  }
}

/** The running vwh's tarball bytes (npm pack, once per process, and cached while its files are unchanged). */
export function vwhTarball(env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  packed ??= cachedTarball({ env }).catch((error: unknown) => {
    packed = undefined;
    throw error;
  });
  return packed;
}
