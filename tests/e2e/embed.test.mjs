// Embedding, as a documentation author and a reader meet it: the examples in
// docs/embedding/ are served from their own origin and load embed.js from the playground's
// (https://kubeplay.example, routed to the built site), as on a real docs site.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { serve, launch } from './playground.page.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DIST = process.env.DIST ?? join(ROOT, 'dist');
const KUBEPLAY = 'https://kubeplay.example';
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };
let docs;
let browser;

before(async () => {
  docs = await serve(join(ROOT, 'docs/embedding'));
  browser = await launch();
});

after(async () => {
  await browser?.close();
  docs?.server.close();
});

/** A reader's browser in which https://kubeplay.example serves the built site. */
async function reader(viewport = { width: 1000, height: 300 }) {
  const context = await browser.newContext({ viewport });
  const requests = [];
  await context.route(`${KUBEPLAY}/**`, async (route) => {
    const url = new URL(route.request().url());
    requests.push(url.pathname);
    const path = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(DIST, path === '/' ? 'index.html' : path));
      await route.fulfill({ status: 200, body, contentType: TYPES[extname(path === '/' ? 'index.html' : path)] ?? 'application/octet-stream' });
    } catch {
      await route.fulfill({ status: 404, body: 'not found' });
    }
  });
  const errors = [];
  context.on('weberror', (e) => errors.push(String(e.error())));
  return { context, requests, errors };
}

const frameCount = (page) => page.locator('iframe[data-kubeplay-frame]').count();

test('an embed page: playgrounds load only in view or on Run, fit their content, follow the theme, and link back', async () => {
  const { context, requests, errors } = await reader();
  const page = await context.newPage();
  await page.goto(`${docs.url}index.html`);
  await page.locator('[data-kubeplay-run]').first().waitFor();
  assert.equal(await frameCount(page), 0, 'nothing loads before it is in view');
  assert.ok(!requests.some((p) => p.endsWith('.wasm')), 'no wasm before a playground is in view');

  // Scrolled into view, the first block becomes a playground running its script.
  await page.locator('.kubeplay-embed').first().scrollIntoViewIfNeeded();
  const first = page.frameLocator('iframe[data-kubeplay-frame="kubeplay-1"]');
  await first.locator('[data-testid="pod"][data-phase="Running"]').nth(2).waitFor({ timeout: 30_000 });
  await first.getByTestId('console-output').getByText('NOMINATED NODE').waitFor({ timeout: 30_000 });
  assert.equal(await first.getByTestId('editor').count(), 1, 'panes=editor,cluster,console');
  assert.equal(await first.getByTestId('event').count(), 0);

  // It asks the page for the height of its content.
  const frame = page.locator('iframe[data-kubeplay-frame="kubeplay-1"]');
  await page.waitForFunction(() => document.querySelector('iframe[data-kubeplay-frame="kubeplay-1"]').style.height !== '420px');
  const inner = await first.locator('.app').evaluate((el) => el.getBoundingClientRect().height);
  const outer = await frame.evaluate((el) => parseFloat(el.style.height));
  assert.ok(Math.abs(outer - inner - 2) <= 2, `frame ${outer}px for content ${inner}px`);
  // A resize message from any other origin is ignored.
  await page.evaluate(() => window.postMessage({ type: 'kubeplay:resize', id: 'kubeplay-1', height: 50 }, '*'));
  await page.waitForTimeout(200);
  assert.equal(await frame.evaluate((el) => parseFloat(el.style.height)), outer);

  // The page's theme, followed as it changes.
  await page.evaluate(() => { document.documentElement.dataset.theme = 'dark'; });
  await first.locator(':root[data-theme="dark"]').waitFor();
  await page.evaluate(() => { document.documentElement.dataset.theme = 'light'; });
  await first.locator(':root[data-theme="light"]').waitFor();

  // The second waits for Run, even in view; readonly: no console input, no Apply.
  await page.locator('.kubeplay-embed').nth(1).scrollIntoViewIfNeeded();
  await page.waitForTimeout(300);
  assert.equal(await frameCount(page), 1);
  assert.match(await page.locator('.kubeplay-preview').textContent(), /name: crash/);
  await page.locator('.kubeplay-embed').nth(1).locator('[data-kubeplay-run]').click();
  const second = page.frameLocator('iframe[data-kubeplay-frame="kubeplay-2"]');
  await second.locator('[data-testid="pod"][data-name="crash"]').waitFor();
  await second.getByTestId('event').first().waitFor();
  assert.equal(await second.getByTestId('console-input').count(), 0);
  assert.equal(await second.getByTestId('apply').count(), 0);

  // "Open in kubeplay": the full playground, with the session as it stands.
  const [popup] = await Promise.all([context.waitForEvent('page'), first.getByTestId('open-in-kubeplay').click()]);
  await popup.waitForLoadState();
  await popup.getByTestId('console-output').getByText('NOMINATED NODE').waitFor({ timeout: 30_000 });
  assert.equal(await popup.getByTestId('share').count(), 1, 'the full playground, not an embed');
  await popup.locator('[data-testid="pod"][data-phase="Running"]').nth(2).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

// mdbook is installed by `cargo xtask test`; run alone, the test says it is skipped.
const mdbook = (() => {
  try {
    execFileSync('mdbook', ['--version']);
    return true;
  } catch {
    return false;
  }
})();

test('the mdBook example builds, and its ```kubeplay block becomes a running playground', { skip: !mdbook && 'mdbook is not installed' }, async () => {
  const out = mkdtempSync(join(tmpdir(), 'kubeplay-mdbook-'));
  execFileSync('mdbook', ['build', join(ROOT, 'docs/embedding/mdbook'), '--dest-dir', out], { stdio: 'pipe' });
  assert.ok(existsSync(join(out, 'crash.html')));
  const book = await serve(out);
  const { context, errors } = await reader({ width: 1200, height: 900 });
  const page = await context.newPage();
  await page.goto(`${book.url}crash.html`);
  const frame = page.frameLocator('iframe[data-kubeplay-frame]');
  await frame.locator('[data-testid="pod"][data-name="crash"]').waitFor({ timeout: 30_000 });
  await frame.locator('[data-testid="pod"][data-name="crash"]:not([data-restarts="0"])').first().waitFor({ timeout: 30_000 });
  // mdBook's own theme class on <html> decides the playground's.
  const theme = await page.evaluate(() => (document.documentElement.classList.contains('light') ? 'light' : 'dark'));
  await frame.locator(`:root[data-theme="${theme}"]`).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
  book.server.close();
});
