// Share links, files and autosave, as a user meets them: a link replays the session in
// another browser, a reload restores the workspace, a link never silently replaces unsaved
// work, and a damaged link says so and opens the default playground.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { readFile } from 'node:fs/promises';
import { serve, launch, Playground } from './playground.page.mjs';

const DIST = process.env.DIST ?? fileURLToPath(new URL('../../dist/', import.meta.url));
let site;
let browser;

before(async () => {
  site = await serve(DIST);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  site?.server.close();
});

/** A page in a fresh browser profile (its own localStorage). */
async function open(url = site.url, context = null) {
  const page = context ? await context.newPage() : await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const playground = new Playground(page);
  await playground.open(url);
  return playground;
}

/** What a user sees of the session: the clock, every Pod chip, the console. */
async function snapshot(p) {
  return {
    clock: await p.clock.textContent(),
    pods: await p.page.$$eval('[data-testid="pod"]', (chips) =>
      chips.map((c) => `${c.dataset.name} ${c.dataset.phase} ${c.dataset.node ?? ''}`).sort()),
    console: await p.consoleOutput.textContent(),
  };
}

async function pause(p) {
  await p.page.getByTestId('play-pause').click();
  await p.page.waitForFunction(() => document.querySelector('[data-testid="play-pause"]').textContent === 'Play');
}

test('Share makes a link that replays the session in a fresh browser: same Pods, same clock, same console', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  await p.run('kubectl scale deployment web --replicas=5');
  await p.waitForConsole('deployment.apps/web scaled');
  await p.waitForPods(5, '[data-phase="Running"]');
  await p.run('kubectl get pods -o wide');
  await p.waitForConsole('NOMINATED NODE');
  await pause(p);
  const before = await snapshot(p);

  await p.page.getByTestId('share').click();
  const link = await p.page.getByTestId('share-link').inputValue();
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/#s=[A-Za-z0-9_-]+$/);
  assert.equal(await p.page.getByTestId('share-length').textContent(), `${link.length.toLocaleString('en-US')} characters`);
  assert.ok(link.length < 2000, `${link.length} characters`);

  const other = await open(link);
  await other.waitForPods(5, '[data-phase="Running"]');
  assert.deepEqual(await snapshot(other), before);
  assert.equal(await other.page.getByTestId('play-pause').textContent(), 'Play', 'opens paused, as it was shared');
  assert.equal(new URL(other.page.url()).hash, '', 'the link leaves the address bar once opened');
  assert.deepEqual(other.errors, []);
  await p.page.close();
  await other.page.close();
});

test('the workspace autosaves: a reload restores the editor, the console and the cluster', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const p = await open(site.url, context);
  await p.waitForPods(3, '[data-phase="Running"]');
  await p.run('kubectl label pod -l app=web tier=front');
  await p.waitForConsole('labeled');
  const unsaved = '# not applied yet\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: later\n';
  await p.paste(unsaved);
  await pause(p);
  const before = await snapshot(p);
  await p.page.waitForTimeout(1500); // the autosave's quiet second

  await p.page.reload();
  await p.nodes.first().waitFor();
  await p.waitForPods(3, '[data-phase="Running"]');
  assert.equal(await p.editor.inputValue(), unsaved);
  assert.deepEqual(await snapshot(p), before);
  await context.close();
});

test('opening a link keeps the unsaved workspace aside, and one click restores it', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const sharer = await open();
  await sharer.run('kubectl create namespace shared');
  await sharer.waitForConsole('namespace/shared created');
  await sharer.page.getByTestId('share').click();
  const link = await sharer.page.getByTestId('share-link').inputValue();

  const p = await open(site.url, context);
  const mine = '# my own work\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: mine\n';
  await p.paste(mine);
  await p.page.waitForTimeout(1500);
  await p.page.goto(link);
  await p.page.getByTestId('kept-workspace').waitFor();
  await p.waitForConsole('namespace/shared created');
  assert.notEqual(await p.editor.inputValue(), mine);

  await p.page.getByTestId('restore-workspace').click();
  await p.page.waitForFunction((t) => document.querySelector('[data-testid="editor"]').value === t, mine);
  assert.doesNotMatch(await p.consoleOutput.textContent(), /namespace\/shared created/);
  await sharer.page.close();
  await context.close();
});

test('a damaged link says why and opens the default playground, without a page error', async () => {
  for (const [fragment, why] of [
    ['#s=AbCd!!efgh', 'characters a kubeplay link never has'],
    ['#s=Ae1YPQqAIBS-ijhXYLTUIbpDkJGbINXkNTpKB-okfY_QTBwag5qiQfTpe99f', 'cut short'],
    ['#s=B2hlbGxv', 'made by a newer kubeplay'],
  ]) {
    const p = await open(site.url + fragment);
    const error = p.page.getByTestId('link-error');
    await error.waitFor();
    assert.match(await error.textContent(), new RegExp(`This link cannot be opened: .*${why}.*The default playground is open instead\\.`));
    await p.waitForPods(3, '[data-phase="Running"]');
    assert.deepEqual(p.errors, []);
    await p.page.close();
  }
});

test('Share offers a file that opens again, the manifests, and the session as a kubectl script', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  await p.run('kubectl delete pod -l app=web --wait=false');
  await p.waitForConsole('deleted');
  await pause(p);
  const before = await snapshot(p);
  await p.page.getByTestId('share').click();

  const [download] = await Promise.all([p.page.waitForEvent('download'), p.page.getByTestId('download-workspace').click()]);
  assert.equal(download.suggestedFilename(), 'playground.kubeplay.json');
  const file = await download.path();
  const json = JSON.parse(await readFile(file, 'utf8'));
  assert.equal(json.kubeplay, 1);
  assert.equal(json.steps.at(-1).run, 'kubectl delete pod -l app=web --wait=false');

  const [manifests] = await Promise.all([p.page.waitForEvent('download'), p.page.getByTestId('download-manifests').click()]);
  assert.match(await readFile(await manifests.path(), 'utf8'), /kind: Deployment/);

  await p.page.getByTestId('copy-script').click();
  const script = await p.page.getByTestId('share-script').inputValue();
  assert.match(script, /^#!\/bin\/sh\n/);
  assert.match(script, /\nkubectl apply -f playground\.yaml\n(sleep \d+\n)?kubectl delete pod -l app=web --wait=false\n$/);

  const other = await open();
  await other.page.getByTestId('share').click();
  await other.page.getByTestId('open-workspace').setInputFiles(file);
  await other.page.waitForFunction(() => !document.querySelector('[data-testid="share-panel"]'));
  assert.deepEqual(await snapshot(other), before);
  await p.page.close();
  await other.page.close();
});

test('the cluster picture exports as an SVG with every node and Pod the page shows', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  await pause(p);
  const [download] = await Promise.all([p.page.waitForEvent('download'), p.page.getByTestId('export-svg').click()]);
  assert.equal(download.suggestedFilename(), 'kubeplay-cluster.svg');
  const svg = await readFile(await download.path(), 'utf8');
  const parsed = await p.page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return {
      error: doc.querySelector('parsererror')?.textContent ?? null,
      root: doc.documentElement.localName,
      chips: [...doc.querySelectorAll('g > title')].map((t) => t.textContent).filter((t) => t.includes(': ')),
      text: doc.documentElement.textContent,
    };
  }, svg);
  assert.equal(parsed.error, null);
  assert.equal(parsed.root, 'svg');
  const pods = await p.page.$$eval('[data-testid="pod"]', (chips) => chips.map((c) => `${c.dataset.namespace}/${c.dataset.name}`).sort());
  assert.deepEqual(parsed.chips.map((t) => t.split(':')[0]).sort(), pods);
  for (const node of await p.page.$$eval('[data-testid="node"]', (nodes) => nodes.map((n) => n.dataset.name))) {
    assert.ok(parsed.text.includes(node), node);
  }
  assert.match(parsed.text, new RegExp(`kubeplay ${(await p.clock.textContent()).replace(/[.]/g, '\\.')}`));
  await p.page.close();
});
