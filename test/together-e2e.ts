/** The test/e2e files that share a process (see together.ts). */
import { runTogether } from "./together.js";

runTogether("e2e");
