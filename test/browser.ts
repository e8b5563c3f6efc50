/** The browser tests' Chromium (Debian's, through playwright-core): where it is, why a test skips without it, how it starts. */
import { existsSync } from "node:fs";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions } from "playwright-core";

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

/**
 * One headless Chromium per process, shared by the browser test files that run in it one after the other
 * (a launch costs about a second and a half of CPU); it closes a moment after its last context, unless the
 * next file has opened one by then.
 */
let shared: { browser: Promise<Browser>; contexts: number; idle?: NodeJS.Timeout } | undefined;
const idleCloseMs = 1500;

/** A fresh context (no cookies, storage or downloads of another test's) in the process's Chromium; close it when done. */
export async function openChromiumContext(options: BrowserContextOptions = {}): Promise<BrowserContext> {
  shared ??= { browser: chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs }), contexts: 0 };
  const current = shared;
  clearTimeout(current.idle);
  current.contexts += 1;
  try {
    const context = await (await current.browser).newContext(options);
    context.once("close", () => release(current));
    return context;
  } catch (error) {
    release(current);
    throw error;
  }
}

function release(current: NonNullable<typeof shared>): void {
  current.contexts -= 1;
  if (current.contexts > 0) return;
  current.idle = setTimeout(() => {
    if (shared === current) shared = undefined;
    void current.browser.then((browser) => browser.close()).catch(() => undefined);
  }, idleCloseMs);
}
