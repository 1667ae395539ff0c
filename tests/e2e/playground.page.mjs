// Page object for the playground: how tests find things (test ids and ARIA labels), so the
// specs read as behaviour.
import { createServer } from 'node:http';
import { readFile, mkdir } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css' };

/** Serves the built site (dist/) on a free loopback port. */
export async function serve(dist) {
  const server = createServer(async (req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dist, path === '/' ? 'index.html' : path);
    try {
      const body = await readFile(file);
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${server.address().port}/` };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export class Playground {
  constructor(page) {
    this.page = page;
    this.nodes = page.getByTestId('node');
    this.pods = page.getByTestId('pod');
    this.editor = page.getByTestId('editor');
    this.applyButton = page.getByTestId('apply');
    this.diagnostics = page.getByTestId('diagnostic');
    this.consoleInput = page.getByTestId('console-input');
    this.consoleOutput = page.getByTestId('console-output');
    this.clock = page.getByTestId('clock');
  }

  async open(url) {
    const errors = [];
    this.page.on('pageerror', (e) => errors.push(e));
    this.errors = errors;
    await this.page.goto(url);
    await this.nodes.first().waitFor();
  }

  /** Waits until exactly `count` Pod chips match `filter` (attribute selectors). */
  async waitForPods(count, filter = '', timeout = 30_000) {
    await this.page.waitForFunction(
      ([f, n]) => document.querySelectorAll(`[data-testid="pod"]${f}`).length === n,
      [filter, count],
      { timeout },
    );
  }

  /** Waits until the console has printed `text`. */
  async waitForConsole(text) {
    await this.page.waitForFunction(
      (t) => document.querySelector('[data-testid="console-output"]').textContent.includes(t),
      text,
    );
  }

  runningPodsOnWorkers() {
    return this.page.locator('[data-testid="pod"][data-phase="Running"][data-node^="worker-"]');
  }

  async replaceManifests(text) {
    await this.editor.fill(text);
  }

  /** Replaces the editor's text in one input event, as a paste does. */
  async paste(text) {
    await this.editor.evaluate((el, t) => {
      el.value = t;
      el.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertFromPaste' }));
    }, text);
  }

  async run(command) {
    await this.consoleInput.fill(command);
    await this.consoleInput.press('Enter');
  }

  async screenshot(name) {
    const dir = new URL('./artifacts/', import.meta.url).pathname;
    await mkdir(dir, { recursive: true });
    await this.page.screenshot({ path: join(dir, `${name}.png`), fullPage: true });
  }
}
