import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DASHBOARD_CSP, DASHBOARD_HTML } from '../../src/api/dashboard.js';
import { MINUTE } from '../../src/store/batch.js';
import { TOKEN, api, fixture, insertAlert, insertSample, insertSession, writeCells, type Fixture } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const hasChromium = fs.existsSync(CHROMIUM);
const hasPlaywright = (() => {
  try {
    createRequire(import.meta.url).resolve('playwright-core');
    return true;
  } catch {
    return false;
  }
})();
const canBrowse = hasChromium && hasPlaywright;
if (!canBrowse) {
  console.warn(
    `skipping the headless-Chromium dashboard test: ${[!hasChromium && `${CHROMIUM} is missing (apt-get install chromium)`, !hasPlaywright && 'playwright-core is not in node_modules'].filter(Boolean).join('; ')}`,
  );
}

/** The slice of playwright-core used here (typed locally: the package is optional). */
interface Handle {
  textContent(): Promise<string | null>;
}
interface Page {
  on(event: 'console', cb: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', cb: (e: Error) => void): void;
  goto(url: string): Promise<unknown>;
  waitForSelector(selector: string, opts?: { state?: string; timeout?: number }): Promise<Handle>;
  fill(selector: string, value: string): Promise<void>;
  click(selector: string): Promise<void>;
  getAttribute(selector: string, name: string): Promise<string | null>;
  textContent(selector: string): Promise<string | null>;
  $(selector: string): Promise<Handle | null>;
  evaluate(expression: string): Promise<unknown>;
}
interface Playwright {
  chromium: { launch(o: { executablePath: string; args: string[] }): Promise<{ newPage(): Promise<Page>; close(): Promise<void> }> };
}

let f: Fixture;
afterEach(() => f?.cleanup());

const inlineScript = () => /<script>([\s\S]*?)<\/script>/.exec(DASHBOARD_HTML)![1]!;
const inlineStyle = () => /<style>([\s\S]*?)<\/style>/.exec(DASHBOARD_HTML)![1]!;
const sha = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

describe('dashboard page', () => {
  it('is one self-contained page whose inline script and style are exactly what the CSP allows', () => {
    expect(DASHBOARD_CSP).toContain(`script-src ${sha(inlineScript())}`);
    expect(DASHBOARD_CSP).toContain(`style-src ${sha(inlineStyle())}`);
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_HTML.match(/<script/g)).toHaveLength(1);
    expect(() => new Function(inlineScript())).not.toThrow(); // the script at least parses
    // Everything from the store goes in as text.
    expect(inlineScript()).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write/);
  });

  it.skipIf(!canBrowse)('in headless Chromium: asks for the token, draws the charts, lists the firing alert', async () => {
    const modName = 'playwright-core';
    const { chromium } = (await import(modName)) as Playwright;
    f = fixture();
    const now = Date.now();
    f.clock.set(now);
    f.runtime.startedAt = now - 3_600_000;
    for (let i = 0; i < 120; i++) {
      writeCells(f.db, [
        { start: now - i * MINUTE, stage: 'upload', ops: 10 + (i % 7) },
        ...(i % 10 === 0 ? [{ start: now - i * MINUTE, stage: 'compression', ops: 2, failed: 1, errorCode: 'FFMPEG_FAILED', level: 'ERROR' }] : []),
      ]);
    }
    insertSample(f.db, 'cpu', '', now - 15_000, 10);
    insertSample(f.db, 'memory', '', now - 15_000, 10);
    insertSample(f.db, 'disk', '/', now - 15_000, 10);
    insertSession(f.db, { id: 'session-42', user: 'u7', stage: 'merging', first: now - 5 * MINUTE });
    insertAlert(f.db, { rule: 'high_error_rate', severity: 'error', started: now - MINUTE, summary: '<img src=x onerror=alert(1)> 12% errors' });
    const app = api(f);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless=new'] });
    try {
      const page = await browser.newPage();
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      await page.goto(`${base}/`);
      await page.waitForSelector('#token-form', { state: 'visible' });

      await page.fill('#token-input', 'not-the-token');
      await page.click('#token-form button[type=submit]');
      // Not waitForFunction: its later polls eval() in the page, which the page's CSP rightly forbids.
      await page.waitForSelector('#token-message:has-text("not accepted")');

      await page.fill('#token-input', TOKEN);
      await page.click('#token-form button[type=submit]');
      await page.waitForSelector('#chart-ops path.line', { timeout: 15_000 });
      await page.waitForSelector('#chart-errors path.line');
      expect(await page.getAttribute('#chart-ops path.line', 'd')).toMatch(/^M[\d.]+ [\d.]+(L[\d.]+ [\d.]+)+$/);
      expect(await page.textContent('#overall')).toMatch(/healthy|warning|critical/);
      const row = await page.waitForSelector('#alerts tr.alert-row');
      expect(await row.textContent()).toContain('high_error_rate');
      expect(await row.textContent()).toContain('<img src=x onerror=alert(1)>'); // shown as text…
      expect(await page.$('#alerts img')).toBeNull(); // …never as markup
      expect(await page.textContent('#sessions')).toContain('session-42');
      expect(await page.evaluate(`sessionStorage.getItem('vigil.token')`)).toBe(TOKEN);
      expect(problems.filter((p) => !p.includes('401'))).toEqual([]);

      // The link `vigil demo` prints: /#token=… logs in and the token leaves the address bar.
      const page2 = await browser.newPage();
      await page2.goto(`${base}/#token=${encodeURIComponent(TOKEN)}`);
      await page2.waitForSelector('#chart-ops path.line', { timeout: 15_000 });
      expect(await page2.evaluate('location.hash')).toBe('');
      expect(await page2.evaluate(`document.getElementById('token-form').hidden`)).toBe(true);
    } finally {
      await browser.close();
      await app.close();
    }
  });
});
