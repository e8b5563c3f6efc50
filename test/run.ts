/**
 * npm test: node --test over every test file, two at a time; the files together.ts groups share a process.
 * Arguments go to node --test first (npm test -- --test-name-pattern=…).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testEntries } from "./together.js";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const child = spawn(process.execPath, ["--test", "--test-concurrency=2", ...process.argv.slice(2), ...testEntries()], { cwd: repoRoot, stdio: "inherit" });
child.on("close", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
