import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'vite';
import type { Page } from 'playwright-core';
import { appWithWeb } from './web-app.ts';
import { REPO } from '../helpers/grim-process.ts';
import { launchBrowser, watchPage } from '../helpers/browser.ts';

const FIXTURE = join(REPO, 'test/e2e/fixtures/chart');
const SHOTS = join(REPO, 'test-artifacts/screenshots');

/** Pixels of the canvas inside `figure` close to rgb (the series colour). */
function colouredPixels(page: Page, figure: string, rgb: [number, number, number]): Promise<number> {
  return page.evaluate(
    ([sel, [r, g, b]]) => {
      const canvas = document.querySelector(`${sel} canvas`) as HTMLCanvasElement | null;
      if (!canvas) return -1;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4)
        if (Math.abs(data[i] - r) < 30 && Math.abs(data[i + 1] - g) < 30 && Math.abs(data[i + 2] - b) < 30)
          n++;
      return n;
    },
    [figure, rgb] as const,
  );
}

test(
  'TimeSeriesChart draws series and switches ranges, under the real CSP',
  { timeout: 180_000 },
  async (t) => {
    const browser = await launchBrowser(t);
    if (!browser) return;

    // Build the test-only demo page with the same Vite settings as the UI, and serve it like the UI.
    const out = mkdtempSync(join(tmpdir(), 'grim-chart-'));
    t.after(() => rmSync(out, { recursive: true, force: true }));
    await build({
      root: FIXTURE,
      configFile: false,
      logLevel: 'warn',
      oxc: { jsx: { runtime: 'automatic' } },
      build: { outDir: join(out, 'dist'), emptyOutDir: true, modulePreload: { polyfill: false } },
    });
    const app = await appWithWeb(t, join(out, 'dist'));
    const url = await app.listen({ host: '127.0.0.1', port: 0 });

    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // The test's own canvas readback makes Chromium suggest willReadFrequently: not the chart's doing.
    const problems = await watchPage(page, ({ text }) => text.includes('willReadFrequently'));
    await page.goto(url + '/');
    const usage = page.getByRole('figure', { name: /Node usage/ });
    const old = page.getByRole('figure', { name: /Old data/ });

    await t.test('both series are drawn with a legend; 24h is the default range', async () => {
      await usage.locator('canvas').waitFor();
      const legend = await usage.locator('.u-legend').innerText();
      assert.match(legend, /cpu/);
      assert.match(legend, /memory/);
      assert.equal(
        await usage.getByRole('button', { name: 'Last 24 hours' }).getAttribute('aria-pressed'),
        'true',
      );
      assert.ok(
        (await colouredPixels(page, 'figure:first-of-type', [0x2f, 0x5d, 0x8a])) > 50,
        'cpu line not drawn',
      );
      assert.ok(
        (await colouredPixels(page, 'figure:first-of-type', [0xc2, 0x57, 0x1a])) > 20,
        'memory line not drawn',
      );
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'chart-demo.png'), fullPage: true });
    });

    await t.test('picking a range updates the buttons, the plot and tells the caller', async () => {
      await usage.getByRole('button', { name: 'Last 7 days' }).click();
      assert.equal(
        await usage.getByRole('button', { name: 'Last 7 days' }).getAttribute('aria-pressed'),
        'true',
      );
      assert.equal(
        await usage.getByRole('button', { name: 'Last 24 hours' }).getAttribute('aria-pressed'),
        'false',
      );
      assert.equal(await page.locator('#picked').innerText(), '7d');
      await usage.getByRole('img', { name: /last 7 days/ }).waitFor();
    });

    await t.test('a range without data says so; a wider one draws it', async () => {
      await old.getByText('No data in the last 24 hours.').waitFor();
      assert.equal(await old.locator('canvas').count(), 0);
      await old.getByRole('button', { name: 'Last 7 days' }).click();
      await old.locator('canvas').waitFor();
      assert.match(await old.locator('.u-legend').innerText(), /disk/);
      await old.getByRole('button', { name: 'Last 1 hour' }).click();
      await old.getByText('No data in the last 1 hour.').waitFor();
    });

    await t.test('no console errors or CSP violations (uPlot styles via CSSOM only)', () => {
      assert.deepEqual(problems, []);
    });
  },
);
