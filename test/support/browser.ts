// Browser tests: the real app on a loopback port, driven by Debian's Chromium
// through playwright-core (which never downloads a browser of its own).
// Outside CI a machine without Chromium skips the browser suite, saying so;
// under CI a missing Chromium fails it, so the suite can never vanish silently.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { startTestEnv, DEMO_PASSWORD, type TestEnv } from './harness.js';

export const CHROMIUM_PATH = '/usr/bin/chromium';

// Without the background-networking flags Chromium keeps calling Google's hosts,
// which this closed network refuses; as root it needs --no-sandbox.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface BrowserApp {
  env: TestEnv;
  browser: Browser;
  /** http://127.0.0.1:PORT of the running app. */
  baseUrl: string;
  /** A blank page in a fresh context (own cookies); goto() takes paths relative to baseUrl. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  /** A fresh page signed in through the real login form; ends on the home page. */
  signIn(username: string, options?: BrowserContextOptions): Promise<Page>;
}

/**
 * Registers before/after hooks in the current describe() that start the app and
 * Chromium, and returns an accessor for them. Use it at the top of a describe().
 * `configOverrides` is read when the hook runs (an earlier hook may fill it in);
 * `opts.jobs` also starts the background jobs.
 */
export function useBrowserApp(configOverrides: Record<string, string> = {}, opts: { jobs?: boolean } = {}): () => BrowserApp {
  let app: BrowserApp | undefined;
  let close: (() => Promise<void>) | undefined;

  before(async function () {
    if (!fs.existsSync(CHROMIUM_PATH)) {
      if (process.env.CI) throw new Error(`CI is set but ${CHROMIUM_PATH} is missing: install Debian's chromium package`);
      console.warn(`\n  SKIPPING the browser suite: ${CHROMIUM_PATH} not found (apt-get install chromium). Under CI this is a failure.\n`);
      this.skip();
    }
    const env = await startTestEnv(configOverrides, opts);
    const server = http.createServer(env.app);
    await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
    close = async () => {
      await browser.close(); // closes every context too
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await env.close();
    };
    const newPage = async (options: BrowserContextOptions = {}) => {
      const context = await browser.newContext({ baseURL: baseUrl, ...options });
      context.setDefaultTimeout(15_000);
      return context.newPage();
    };
    app = {
      env,
      browser,
      baseUrl,
      newPage,
      async signIn(username, options) {
        const page = await newPage(options);
        await page.goto('/login');
        await page.fill('input[name="username"]', username);
        await page.fill('input[name="password"]', DEMO_PASSWORD);
        await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.click('form[action="/login"] button[type="submit"]')]);
        return page;
      },
    };
  });

  after(async () => {
    await close?.();
  });

  return () => {
    if (!app) throw new Error('useBrowserApp(): the app is not started (before hook failed or skipped)');
    return app;
  };
}
