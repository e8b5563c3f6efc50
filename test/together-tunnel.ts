/** The tunnel and inspector files of test/e2e that share a process (see together.ts). */
import { runTogether } from "./together.js";

runTogether("tunnel");
