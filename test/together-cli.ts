/** The test/cli files that share a process (see together.ts). */
import { runTogether } from "./together.js";

runTogether("cli");
