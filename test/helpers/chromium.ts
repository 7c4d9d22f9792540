import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`): playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Flags for a quiet headless Chromium as root in a container: no sandbox (root), no GPU,
 * and nothing that reaches the network on its own (updates, sync, QUIC probes).
 */
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A real headless Chromium. Each launch gets a fresh profile (playwright's own temporary
 * user-data-dir, removed on close), so no cookie or cache carries over between tests.
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (see .ci/run)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 120_000 });
}

/** A headless Chromium with one page. */
export interface HeadlessChromium {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Closes the browser; its processes and profile go with it. */
  close(): Promise<void>;
}

/** launchChromium with one page of the given viewport. */
export async function startChromium(
  viewport = { width: 1280, height: 800 },
): Promise<HeadlessChromium> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    return { page, context, close: () => browser.close() };
  } catch (err) {
    await browser.close();
    throw err;
  }
}
