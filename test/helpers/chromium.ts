import { existsSync } from 'node:fs';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { makeTempDir, removeTempDir } from './tmp.js';

/** Debian's Chromium (`apt-get install chromium`): playwright-core downloads no browser. */
export const CHROMIUM = '/usr/bin/chromium';

/** A headless Chromium with a user-data dir of its own, and one page. */
export interface HeadlessChromium {
  readonly page: Page;
  readonly context: BrowserContext;
  /** Closes the browser (its processes end with it) and removes its user-data dir. */
  close(): Promise<void>;
}

/**
 * Starts Debian's Chromium headless and quiet: no sandbox (CI runs as root), no GPU, and
 * nothing that reaches the network on its own (QUIC, background updates, sync), with a
 * fresh profile so no state carries over between runs.
 */
export async function startChromium(
  viewport = { width: 1280, height: 800 },
): Promise<HeadlessChromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: apt-get install chromium (see .ci/run)`);
  }
  const dir = await makeTempDir('chromium');
  try {
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const page = context.pages()[0] ?? (await context.newPage());
    return {
      page,
      context,
      async close() {
        await context.close();
        await removeTempDir(dir);
      },
    };
  } catch (err) {
    await removeTempDir(dir);
    throw err;
  }
}
