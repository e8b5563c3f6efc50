/**
 * npm test: node --test over every test file, three at a time (many files wait on spawned processes, sockets or
 * real-time streams, so a third keeps both cores busy: 96 → 74 s on 2 cores); the files together.ts groups share a process.
 * Arguments go to node --test first (npm test -- --test-name-pattern=…).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testEntries } from "./together.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const child = spawn(process.execPath, ["--test", "--test-concurrency=3", ...process.argv.slice(2), ...testEntries()], { cwd: repoRoot, stdio: "inherit" });
child.on("close", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
