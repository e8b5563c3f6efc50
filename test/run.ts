/**
 * npm test: every test file through node's test runner, four at a time (many files wait on spawned processes,
 * sockets or real-time streams, so more than two keep both cores busy: three took 59–63 s, four 52–54 s, five
 * the same as four), in together.ts's order: node:test's run()
 * keeps the order it is given, where `node --test` sorts its files and so started the longest group last.
 * The files together.ts groups share a process.
 *
 * Temporary files go to a folder of their own on /dev/shm (a RAM file system) where there is one and TMPDIR
 * is not set, removed at the end: the tests write and delete thousands of files, two npm installs among them,
 * and on this machine (ext4 mounted with discard) one such install cost 7.9 s of CPU in /tmp
 * against 4.0 s on /dev/shm (3 runs each, alternating).
 *
 * Options (npm test -- …): --test-name-pattern=<regex> (repeatable: tests whose name matches any), and
 * --test-reporter=spec|tap|dot (default: spec on a terminal, tap otherwise, as node --test).
 */
import { mkdtempSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { run } from "node:test";
import { dot, spec, tap } from "node:test/reporters";
import { fileURLToPath } from "node:url";
import { testEntries } from "./together.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
// spec is a Transform class, tap and dot async generators: compose() takes either.
const reporters = { spec: () => new spec(), tap: () => tap, dot: () => dot } as const;

const patterns: string[] = [];
let reporter: keyof typeof reporters = process.stdout.isTTY ? "spec" : "tap";
const args = process.argv.slice(2);
for (let index = 0; index < args.length; index++) {
  const given = args[index]!;
  const [name, inline] = given.split(/=(.*)/s, 2) as [string, string | undefined];
  const value = name === "--test-name-pattern" || name === "--test-reporter" ? (inline ?? args[++index]) : undefined;
  if (name === "--test-name-pattern" && value !== undefined) patterns.push(value);
  else if (name === "--test-reporter" && value !== undefined && value in reporters) reporter = value as keyof typeof reporters;
  else {
    process.stderr.write(`dist/test/run.js: cannot use ${given} (expected --test-name-pattern=<regex> or --test-reporter=spec|tap|dot)\n`);
    process.exit(2);
  }
}

/**
 * A fresh folder on /dev/shm for TMPDIR, or undefined: TMPDIR set, no writable /dev/shm, or one with less than
 * 1 GiB free (a container's is 64 MiB by default, and the two npm installs alone take ~70 MB): os.tmpdir() as is.
 */
function ramTempFolder(): string | undefined {
  if (process.env["TMPDIR"] !== undefined) return undefined;
  try {
    const { bavail, bsize } = statfsSync("/dev/shm");
    if (bavail * bsize < 2 ** 30) return undefined;
    return mkdtempSync("/dev/shm/vwh-test-");
  } catch {
    return undefined;
  }
}

const tempFolder = ramTempFolder();
if (tempFolder !== undefined) {
  process.env["TMPDIR"] = tempFolder;
  process.on("exit", () => rmSync(tempFolder, { recursive: true, force: true }));
  // Ctrl-C: the exit handlers run, so nothing is left in RAM.
  process.once("SIGINT", () => process.exit(130));
}

const stream = run({
  files: testEntries().map((entry) => join(repoRoot, entry)),
  concurrency: 4,
  ...(patterns.length > 0 && { testNamePatterns: patterns }),
});
stream.on("test:fail", () => (process.exitCode = 1));
stream.compose(reporters[reporter]()).pipe(process.stdout);
