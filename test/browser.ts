/** The browser tests' Chromium (Debian's, through playwright-core): where it is, why a test skips without it, how it starts. */
import { existsSync } from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";

export const chromiumPath = "/usr/bin/chromium";

/** false where Chromium is installed, else the reason each browser test gives for skipping. */
export const browserSkip: false | string = existsSync(chromiumPath)
  ? false
  : `${chromiumPath} is not installed: apt-get install chromium (see README, Development) to run the inspector's browser test`;

const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A headless Chromium with its profile in `userDataDir` (a temporary folder: nothing of the user's). */
export function launchChromium(userDataDir: string, options: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(userDataDir, { ...options, executablePath: chromiumPath, headless: true, args: chromiumArgs });
}
