import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { REPO } from '../helpers/grim-process.ts';
import { watchPage, type Allowed } from '../helpers/browser.ts';

export const SHOTS = join(REPO, 'test-artifacts/screenshots');

export async function newPage(
  browser: Browser,
  allowed: Allowed,
): Promise<{ ctx: BrowserContext; page: Page; problems: string[] }> {
  mkdirSync(SHOTS, { recursive: true });
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const problems = await watchPage(page, allowed);
  return { ctx, page, problems };
}

export async function shot(page: Page, name: string) {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export async function openFromNav(page: Page, label: string, heading: string | RegExp) {
  await page
    .getByRole('navigation', { name: 'Main' })
    .getByRole('link', { name: label, exact: true })
    .click();
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

export async function login(page: Page, username: string, password: string) {
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}
