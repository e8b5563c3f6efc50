/** The test/unit files that share a process (see together.ts). */
import { runTogether } from "./together.js";

runTogether("unit");
