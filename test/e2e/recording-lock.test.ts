/**
 * Issue 26, defect 6: a recording's journal is guarded by an OS lock (a Unix-domain socket the kernel
 * closes when its process dies), not by a pid that may belong to another process after a reboot.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { UsageError } from "../../src/core/errors.js";
import { loadFlow } from "../../src/files/call-flow.js";
import { acquireLock, lockPath, LockHeld } from "../../src/lib/socket-lock.js";
import { Recorder, recoverJournal, toRecordedEvent, type RecordedRequest } from "../../src/tunnel/recorder.js";
import { startServer, tunnelInProcess, withTempDir } from "../helpers.js";

const request: RecordedRequest = {
  receivedAt: new Date("2026-01-01T00:00:00Z"),
  method: "POST",
  path: "/hook",
  url: undefined,
  headers: { "content-type": "application/json" },
  body: Buffer.from('{"event_type":"call.started","call_id":"c1"}'),
};

/** Leaves a socket file at `path` with no process behind it, as a killed tunnel (or a reboot) does. */
function leaveStaleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    ["-e", `require("node:net").createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, "SIGKILL"))`],
    { stdio: "ignore" },
  );
  return new Promise((resolve) => child.on("close", () => resolve()));
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

describe("an OS lock guards a recording's journal (issue 26, defect 6)", { skip: process.platform === "win32" && "no socket files on Windows" }, () => {
  it("takes over a stale lock even when the journal's pid now belongs to another live process", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const journal = `${file}.journal`;
      // After a reboot: the journal names a pid that is alive (our parent), its socket has no listener.
      await writeFile(
        journal,
        `${JSON.stringify({ vwh_journal: 1, pid: process.ppid, started_at: "2026-01-01T00:00:00Z", recording: file })}\n${JSON.stringify({ n: 1, event: toRecordedEvent(request, { redactPii: false }) })}\n`,
      );
      await leaveStaleSocket(`${journal}.lock`);
      assert.ok(await exists(`${journal}.lock`), "the killed process left its socket file");
      const refused = await Recorder.open(file, { redactPii: false }).catch((error: unknown) => error);
      assert.ok(refused instanceof UsageError);
      assert.match(refused.message, /left from a tunnel that stopped/, "a journal nobody holds is named for --recover");
      const recovered = await recoverJournal(journal);
      assert.deepEqual(recovered, { file, requests: 1, displaced: false });
      assert.equal((await loadFlow(file)).flow.events!.length, 1);
      assert.equal(await exists(`${journal}.lock`), false, "the lock is released after recovering");

      const next = join(dir, "next.json");
      await leaveStaleSocket(`${next}.journal.lock`);
      const recorder = await Recorder.open(next, { redactPii: false });
      await recorder.append(request);
      assert.equal((await recorder.finish("r")).requests, 1);
      assert.equal(await exists(`${next}.journal.lock`), false);
    });
  });

  it("a live lock refuses a second recorder and --recover with one line (exit 2), naming the holder's pid", async () => {
    await withTempDir(async (dir) => {
      const file = join(dir, "calls.json");
      const first = await Recorder.open(file, { redactPii: false });
      try {
        const second = await Recorder.open(file, { redactPii: false }).catch((error: unknown) => error);
        assert.ok(second instanceof UsageError);
        assert.equal(second.exitCode, 2);
        assert.equal(second.message, `${file}: another vwh tunnel (pid ${process.pid}) is recording to it`);
        const recover = await recoverJournal(`${file}.journal`).catch((error: unknown) => error);
        assert.ok(recover instanceof UsageError);
        assert.equal(recover.message, `${file}.journal: a vwh tunnel (pid ${process.pid}) is still recording to it`);
        assert.ok(await exists(`${file}.journal`), "the live journal is left alone");
      } finally {
        await first.discard();
      }
      assert.equal(await exists(`${file}.journal.lock`), false);
    });
  });

  it("a path too long for a socket locks a hashed socket in the temporary folder instead", async () => {
    await withTempDir(async (dir) => {
      const deep = join(dir, "d".repeat(60), "e".repeat(60));
      await mkdir(deep, { recursive: true });
      const file = join(deep, "calls.json.journal");
      const path = await lockPath(file);
      assert.ok(!path.startsWith(deep) && /vwh-[0-9a-f]{32}\.lock$/.test(path), path);
      const held = await acquireLock(file);
      try {
        await assert.rejects(acquireLock(file), (error: unknown) => error instanceof LockHeld && error.pid === process.pid);
      } finally {
        await held.release();
      }
      await (await acquireLock(file)).release();
    });
  });

  it("Ctrl-C releases the lock: the same --record path can be recorded to again", async () => {
    await withTempDir(async (dir) => {
      const upstream = await startServer(() => undefined);
      try {
        const file = join(dir, "calls.json");
        // In process (stop() ends it as Ctrl-C does): the lock released by a real process's Ctrl-C is checked by
        // tunnel.test.ts's double Ctrl-C, which spawns.
        const tunnel = await tunnelInProcess([String(upstream.port), "--local", "--json", "--no-inspect", "--record", file]);
        JSON.parse(await tunnel.nextLine());
        assert.ok(await exists(`${file}.journal.lock`), "the running tunnel holds the lock");
        const result = await tunnel.stop("SIGINT");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(await exists(`${file}.journal.lock`), false);
        assert.equal(await exists(`${file}.journal`), false);
        const again = await Recorder.open(file, { redactPii: false });
        await again.discard();
      } finally {
        await upstream.close();
      }
    });
  });
});
