import { existsSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type ConsoleMessage, type Page } from 'playwright-core';

export const CHROMIUM = process.env.GRIM_CHROMIUM ?? '/usr/bin/chromium';

const ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * Launches Debian's Chromium (headless). Each launch gets a fresh temporary profile (user-data-dir),
 * removed on close. Without Chromium the test is skipped with the reason, except under CI where it fails.
 */
export async function launchBrowser(t: TestContext): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    const why = `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
    if (process.env.CI) throw new Error(`${why}; browser tests must run in CI`);
    t.skip(why);
    return null;
  }
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  t.after(() => browser.close());
  return browser;
}

/** A console message the page is allowed to produce: e.g. an expected 401 from a known URL. */
export type Allowed = (msg: { text: string; url: string }) => boolean;

/** Allows "Failed to load resource" for the given statuses on URLs ending with the given paths. */
export function allowHttpErrors(rules: Array<{ status: number; path: string }>): Allowed {
  return ({ text, url }) =>
    rules.some((r) => text.includes(`status of ${r.status}`) && new URL(url, 'http://x').pathname === r.path);
}

/**
 * Collects everything that would show a person something is wrong: console errors and warnings,
 * uncaught exceptions, and Content-Security-Policy violations (reported by an init script).
 */
export async function watchPage(page: Page, allowed: Allowed = () => false): Promise<string[]> {
  const problems: string[] = [];
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`),
    );
  });
  page.on('console', (m: ConsoleMessage) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    const url = m.location().url ?? '';
    if (allowed({ text: m.text(), url })) return;
    // Chromium aborts requests in flight when the host's interfaces change; lab namespaces (their veth pairs)
    // come and go on the host while a browser test runs, which is the machine, not the page.
    if (m.text().includes('net::ERR_NETWORK_CHANGED')) return;
    problems.push(`console ${m.type()}: ${m.text()} (${url})`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  return problems;
}
