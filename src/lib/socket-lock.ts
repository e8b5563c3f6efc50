/**
 * An OS-level lock that dies with its holder: a Unix-domain socket listening at `<file>.lock` (a
 * named pipe on Windows). The kernel closes the socket when the process ends however it ends — Ctrl-C,
 * a crash, SIGKILL, a reboot — so a connection that is refused (ECONNREFUSED) means nobody holds the
 * lock and its left-over socket file may be taken over. A pid file cannot tell that: after a reboot
 * its pid may belong to another process. (proper-lockfile and its kind judge staleness by mtimes,
 * not by the kernel.)
 *
 * Socket paths are limited to ~107 bytes (104 on macOS) and Node cuts a longer one silently, so a
 * long path locks a socket in the temporary folder named by a hash of the file's real path instead.
 */
import { createHash } from "node:crypto";
import { realpath, rename, link, rm } from "node:fs/promises";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

const maxSocketPathBytes = 103;

export interface HeldLock {
  /** Where the lock's socket listens. */
  readonly path: string;
  /** Closes the socket (which removes its file). */
  release(): Promise<void>;
}

/** The lock is held by a live process; `pid` as it announced itself, when it did. */
export class LockHeld extends Error {
  constructor(readonly pid: number | undefined) {
    super(`held by a live process${pid === undefined ? "" : ` (pid ${pid})`}`);
  }
}

/** Where the lock for `file` listens: beside it, or in the temporary folder when that path is too long. */
export async function lockPath(file: string): Promise<string> {
  const absolute = join(await realpath(dirname(resolve(file))), basename(file));
  const hashed = () => `vwh-${createHash("sha256").update(absolute).digest("hex").slice(0, 32)}.lock`;
  if (process.platform === "win32") return `\\\\?\\pipe\\${hashed()}`;
  const beside = `${absolute}.lock`;
  return Buffer.byteLength(beside) <= maxSocketPathBytes ? beside : join(tmpdir(), hashed());
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    // Whoever connects learns the holder's pid, for the message that refuses them.
    const server = createServer((socket) => socket.on("error", () => undefined).end(`${JSON.stringify({ pid: process.pid })}\n`));
    server.once("error", reject);
    server.listen(path, () => {
      server.off("error", reject);
      server.unref();
      resolve(server);
    });
  });
}

type Probe = { state: "live"; pid: number | undefined } | { state: "stale" } | { state: "gone" };

/** Connects to a lock's socket: live (with its pid when it says), stale (refused), or gone. */
function probe(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    let text = "";
    let connected = false;
    const socket = connect(path);
    const live = () => {
      socket.destroy();
      const pid = (/"pid":(\d+)/.exec(text) ?? [])[1];
      resolve({ state: "live", pid: pid === undefined ? undefined : Number(pid) });
    };
    socket.setEncoding("utf8");
    socket.setTimeout(1000, live);
    socket.on("connect", () => (connected = true));
    socket.on("data", (chunk: string) => (text += chunk).includes("\n") && live());
    socket.on("end", live);
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (connected) return live();
      resolve(error.code === "ECONNREFUSED" ? { state: "stale" } : { state: "gone" });
    });
  });
}

/**
 * Takes the lock for `file`, taking over a stale one; throws LockHeld when a live process holds it,
 * and the file system's error (ENOENT, EACCES …) when the socket cannot be created.
 *
 * A stale socket is first moved to a name of its own, so of two processes taking it over at once only
 * one moves it; socket creation itself is exclusive (EADDRINUSE), so only one then listens.
 */
export async function acquireLock(file: string): Promise<HeldLock> {
  const path = await lockPath(file);
  for (let attempt = 0; attempt < 20; attempt++) {
    try {
      const server = await listen(path);
      return { path, release: () => new Promise<void>((done) => server.close(() => done())) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EADDRINUSE") throw error;
    }
    const found = await probe(path);
    if (found.state === "live") throw new LockHeld(found.pid);
    if (found.state === "gone") continue;
    const moved = `${path}.stale-${process.pid}-${attempt}`;
    try {
      await rename(path, moved);
    } catch {
      continue; // another process moved it first
    }
    const again = await probe(moved);
    if (again.state === "live") {
      // A live lock replaced the stale one between the two looks: put it back.
      await link(moved, path).catch(() => undefined);
      await rm(moved, { force: true });
      throw new LockHeld(again.pid);
    }
    await rm(moved, { force: true });
  }
  throw new LockHeld(undefined);
}
