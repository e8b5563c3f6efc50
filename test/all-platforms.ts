/** Every test/platforms file in one process (see together.ts). */
import { runFolder } from "./together.js";

runFolder("platforms");
