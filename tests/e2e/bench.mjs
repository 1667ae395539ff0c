// `cargo xtask bench`, in the browser: headless Chromium runs the release build of the site.
// Prints (1) the core's benchmark workloads run as wasm in the page (`?bench=NAME`, the same
// workloads as the native benchmark) and (2) the playground's frame times while the clock
// runs with 1,000 Pods. Figures, not assertions. Usage: node bench.mjs DIST [quick]
// [only=NAME,…] (only those workloads, e.g. `only=envelope`, each in a fresh page).
import { serve, launch, Playground } from './playground.page.mjs';

const dist = process.argv[2];
const quick = process.argv.includes('quick');
const only = process.argv.find((a) => a.startsWith('only='))?.slice(5).split(',');
const { server, url } = await serve(dist);
const browser = await launch();

async function workload(name) {
  // A context of its own: the workloads before it must not share its renderer's memory.
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('crash', () => errors.push('the page crashed'));
  await page.goto(`${url}?bench=${name}`);
  try {
    await page.waitForFunction(
      () => {
        const result = document.querySelector('[data-testid="bench-result"]')?.textContent;
        return result !== undefined && !result.startsWith('running');
      },
      null,
      { timeout: 20 * 60_000, polling: 1000 },
    );
    if (errors.length) throw new Error(errors.join('; '));
    console.log(`chromium: ${await page.getByTestId('bench-result').textContent()}`);
  } catch (e) {
    console.log(`chromium: ${name}: did not finish (${errors.join('; ') || e.message})`);
  }
  await context.close();
}

/** 10 nodes of 110 Pods and one Deployment of 1,000 replicas. */
function thousandPods() {
  let yaml = '';
  for (let i = 0; i < 10; i++) yaml += `apiVersion: v1\nkind: Node\nmetadata:\n  name: node-${i}\n---\n`;
  return yaml + `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: big\nspec:\n  replicas: 1000\n  selector:\n    matchLabels: {app: big}\n  template:\n    metadata:\n      labels: {app: big}\n    spec:\n      containers:\n      - name: c\n        image: nginx:1.27\n`;
}

async function frameTimes() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const p = new Playground(page);
  await p.open(url);
  await p.paste(thousandPods());
  // Frame-to-frame times for ten seconds of wall time from the click that creates the 1,000
  // Pods: applying them, scheduling, and the kubelet starting them all happen in this window.
  const recording = page.evaluate(() => new Promise((resolve) => {
    const times = [];
    let last = performance.now();
    const end = last + 10_000;
    const step = (now) => {
      times.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(step); else resolve(times);
    };
    requestAnimationFrame(step);
  }));
  await page.getByTestId('reset').click();
  const frames = await recording;
  frames.sort((a, b) => a - b);
  const at = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))].toFixed(1);
  const running = await page.locator('[data-testid="pod"][data-phase="Running"]').count();
  console.log(`chromium: playground with 1000 Pods (${running} Running), clock at 1x from the click that creates them: ${frames.length} frames in 10 s, frame time p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1 - 1e-9)} ms`);
  await page.close();
}

/** Frame times while 200 requests/s flow through a LoadBalancer to the 1,000 Pods. */
async function trafficFrameTimes() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const p = new Playground(page);
  await p.open(url);
  await p.paste(thousandPods() + '---\napiVersion: v1\nkind: Service\nmetadata:\n  name: big\nspec:\n  type: LoadBalancer\n  selector: {app: big}\n  ports:\n  - port: 80\n');
  await page.getByTestId('reset').click();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="pod"][data-phase="Running"]').length === 1000
    && /^203\./.test(document.querySelector('[data-testid="service"][data-name="big"]')?.dataset.external ?? ''), null, { timeout: 120_000, polling: 500 });
  const ip = await page.locator('[data-testid="service"][data-name="big"]').getAttribute('data-external');
  await p.run(`traffic start load http://${ip}/ --rate=200`);
  await p.waitForConsole('traffic source load started');
  const frames = await page.evaluate(() => new Promise((resolve) => {
    const times = [];
    let last = performance.now();
    const end = last + 10_000;
    const step = (now) => {
      times.push(now - last);
      last = now;
      if (now < end) requestAnimationFrame(step); else resolve(times);
    };
    requestAnimationFrame(step);
  }));
  frames.sort((a, b) => a - b);
  const at = (q) => frames[Math.min(frames.length - 1, Math.floor(q * frames.length))].toFixed(1);
  const sent = await page.locator('[data-testid="traffic-source"][data-name="load"]').getAttribute('data-sent');
  const dots = await page.locator('[data-testid="traffic-dot"]').count();
  console.log(`chromium: playground with 1000 Running Pods and 200 requests/s through a LoadBalancer: ${frames.length} frames in 10 s, frame time p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${at(1 - 1e-9)} ms (${sent} requests sent, ${dots} dots in flight at the end)`);
  await page.close();
}

try {
  if (!only) {
    await frameTimes();
    await trafficFrameTimes();
  }
  for (const name of only ?? (quick ? ['scheduling-basic-quick'] : ['scheduling-basic', 'growth-small', 'growth-large', 'envelope'])) {
    await workload(name);
  }
} finally {
  await browser.close();
  server.close();
}
