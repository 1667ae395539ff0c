// The walking skeleton, as a user sees it: the default example runs, a broken manifest is
// pointed at, and the console answers kubectl.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
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

async function open() {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const playground = new Playground(page);
  await playground.open(site.url);
  return playground;
}

test('the default example runs: three nginx Pods reach Running on worker nodes', async () => {
  const p = await open();
  assert.equal(await p.nodes.count(), 4);
  const names = await p.nodes.evaluateAll((els) => els.map((e) => e.dataset.name));
  assert.deepEqual(names, ['control-plane', 'worker-1', 'worker-2', 'worker-3']);
  await p.waitForPods(3, '[data-phase="Running"][data-node^="worker-"]');
  const pods = await p.runningPodsOnWorkers().evaluateAll((els) => els.map((e) => e.dataset.name));
  assert.equal(pods.length, 3);
  for (const name of pods) assert.match(name, /^web-[bcdfghjklmnpqrstvwxz2456789]+-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  assert.equal(await p.page.locator('[data-testid="pod"][data-node="control-plane"]').count(), 0);
  assert.match(await p.clock.textContent(), /^t = \d/);
  await p.screenshot('default-example');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('a broken manifest shows a diagnostic with its line number', async () => {
  const p = await open();
  await p.replaceManifests([
    'apiVersion: apps/v1',
    'kind: Deployment',
    'metadata:',
    '  name: web',
    'spec:',
    '  replica: 2',
    '  selector:',
    '    matchLabels: {app: web}',
    '  template:',
    '    metadata:',
    '      labels: {app: web}',
    '    spec:',
    '      containers: [{name: web, image: nginx}]',
  ].join('\n'));
  // Diagnostics appear once typing pauses, before anything is applied.
  await p.diagnostics.first().waitFor();
  assert.doesNotMatch(await p.consoleOutput.textContent(), /strict decoding error/);
  await p.applyButton.click();
  const diag = p.diagnostics.first();
  assert.equal(await diag.getAttribute('data-line'), '6');
  assert.match(await diag.textContent(), /line 6:3: error: unknown field "spec.replica" \(did you mean "replicas"\?\)/);
  assert.match(await p.consoleOutput.textContent(), /strict decoding error: unknown field "spec.replica"/);
  // Clicking the diagnostic puts the cursor at line 6, column 3.
  await diag.click();
  const cursor = await p.editor.evaluate((el) => [el.selectionStart, document.activeElement === el]);
  const text = await p.editor.inputValue();
  const expected = text.split('\n').slice(0, 5).join('\n').length + 1 + 2;
  assert.deepEqual(cursor, [expected, true]);
  await p.screenshot('diagnostic');
  await p.page.close();
});

test('kubectl get pods typed in the console prints the table', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  await p.run('kubectl get pods');
  await p.waitForConsole('$ kubectl get pods\n');
  const text = await p.consoleOutput.textContent();
  const table = text.split('$ kubectl get pods\n')[1];
  const lines = table.trim().split('\n');
  assert.match(lines[0], /^NAME +READY +STATUS +RESTARTS +AGE$/);
  assert.equal(lines.length, 4);
  for (const row of lines.slice(1)) assert.match(row, /^web-\S+ +1\/1 +Running +0 +\d+s$/);
  // Clicking a Pod opens its details; their "describe" describes it in the console.
  const first = p.runningPodsOnWorkers().first();
  const name = await first.getAttribute('data-name');
  await first.click();
  const detail = p.page.locator(`[data-testid="pod-detail"][data-name="${name}"]`);
  await detail.waitFor();
  assert.equal(await detail.locator('[data-testid="container"]').getAttribute('data-state'), 'Running');
  await detail.getByTestId('describe').click();
  await p.waitForConsole(`$ kubectl describe pod ${name} -n default`);
  const described = (await p.consoleOutput.textContent()).split(`$ kubectl describe pod ${name} -n default\n`)[1];
  assert.match(described, new RegExp(`^Name: +${name}\n`));
  assert.match(described, /\nControlled By: +ReplicaSet\/web-\S+\n/);
  assert.match(described, /\n {2}Normal {2}Started {4}\S+ +kubelet +Started container nginx\n/);
  // ArrowUp recalls the previous command (the describe just run).
  await p.consoleInput.press('ArrowUp');
  assert.equal(await p.consoleInput.inputValue(), `kubectl describe pod ${name} -n default`);
  await p.consoleInput.press('ArrowUp');
  assert.equal(await p.consoleInput.inputValue(), 'kubectl get pods');
  await p.consoleInput.fill('');
  // "why here?" asks the scheduler's reasons.
  await detail.getByTestId('explain-scheduling').click();
  await p.waitForConsole(`$ kubeplay explain pod ${name} -n default\n`);
  assert.match(await p.consoleOutput.textContent(), /Highest score/);
  await p.run('kubectl scale deployment web --replicas=5');
  await p.waitForPods(5);
  await p.page.close();
});

test('Ctrl+Enter applies the editor; Pause stops the clock and Play resumes it', async () => {
  const p = await open();
  await p.replaceManifests([
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: solo',
    'spec:',
    '  containers:',
    '  - name: c',
    '    image: busybox:1.36',
    '    command: ["sleep", "3600"]',
  ].join('\n'));
  await p.editor.press('Control+Enter');
  await p.page.locator('[data-testid="pod"][data-name="solo"]').waitFor();
  assert.match(await p.consoleOutput.textContent(), /pod\/solo created/);

  await p.page.getByTestId('play-pause').click();
  const paused = await p.clock.textContent();
  await p.page.waitForTimeout(600);
  assert.equal(await p.clock.textContent(), paused, 'the clock must not move while paused');
  await p.page.getByTestId('speed').selectOption('10');
  await p.page.getByTestId('play-pause').click();
  await p.page.waitForFunction((before) => document.querySelector('[data-testid="clock"]').textContent !== before, paused);
  await p.page.close();
});

test('a Pod whose liveness probe starts failing is restarted, and its chip counts the restarts', async () => {
  const p = await open();
  await p.paste([
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: liveness-exec',
    'spec:',
    '  containers:',
    '  - name: liveness',
    '    image: registry.k8s.io/busybox:1.27.2',
    '    args: ["/bin/sh", "-c", "touch /tmp/healthy; sleep 30; rm -f /tmp/healthy; sleep 600"]',
    '    livenessProbe:',
    '      exec:',
    '        command: ["cat", "/tmp/healthy"]',
    '      initialDelaySeconds: 5',
    '      periodSeconds: 5',
  ].join('\n'));
  await p.page.getByTestId('reset').click();
  await p.page.getByTestId('speed').selectOption('50');
  const chip = p.page.locator('[data-testid="pod"][data-name="liveness-exec"]');
  await chip.waitFor();
  assert.equal(await chip.getAttribute('data-restarts'), '0');
  // About 75 virtual seconds: three failed probes, the kill, 30 s of grace, the restart.
  await p.page.waitForFunction(
    () => Number(document.querySelector('[data-testid="pod"][data-name="liveness-exec"]')?.dataset.restarts) >= 1,
    null,
    { timeout: 30_000 },
  );
  assert.match(await chip.getAttribute('aria-label'), /restarted once/);
  assert.match(await chip.textContent(), /↻1/);
  const events = await p.page.locator('[data-testid="event"]').allTextContents();
  assert.ok(events.some((e) => e.includes('Liveness probe failed: cat: can\'t open \'/tmp/healthy\'')), events.join('\n'));
  // The Pod's details show why: its timeline has the failed probes, the kill and the restart.
  await chip.click();
  const card = p.page.locator('[data-testid="pod-detail"] [data-testid="container"][data-name="liveness"]');
  await card.waitFor();
  assert.ok(Number(await card.getAttribute('data-restarts')) >= 1);
  const kinds = await card.locator('[data-testid="timeline-list"] li').evaluateAll((els) => els.map((e) => e.dataset.kind));
  const strip = await card.locator('[data-testid="timeline"] .mark').evaluateAll((els) => els.map((e) => e.dataset.kind));
  for (const kind of ['probe-fail', 'kill', 'exit', 'start']) assert.ok(strip.includes(kind) || kinds.includes(kind), `${kind} in ${strip}`);
  // A command typed into the container's exec line runs through the console.
  await card.getByTestId('exec-input').fill('touch /tmp/healthy && ls /tmp');
  await card.getByTestId('exec-input').press('Enter');
  await p.waitForConsole("$ kubectl exec liveness-exec -n default -c liveness -- sh -c 'touch /tmp/healthy && ls /tmp'\nhealthy\n");
  await p.screenshot('pod-detail');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('Secret values in a Pod\'s environment are masked until revealed', async () => {
  const p = await open();
  await p.paste([
    'apiVersion: v1',
    'kind: Secret',
    'metadata:',
    '  name: db',
    'stringData:',
    '  password: s3cr3t-value',
    '---',
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: app',
    'spec:',
    '  containers:',
    '  - name: app',
    '    image: busybox:1.36',
    '    command: ["sleep", "3600"]',
    '    env:',
    '    - name: MODE',
    '      value: production',
    '    - name: DB_PASSWORD',
    '      valueFrom:',
    '        secretKeyRef: {name: db, key: password}',
  ].join('\n'));
  await p.page.getByTestId('reset').click();
  const chip = p.page.locator('[data-testid="pod"][data-name="app"][data-phase="Running"]');
  await chip.waitFor({ timeout: 30_000 });
  await chip.click();
  const env = p.page.locator('[data-testid="pod-detail"] [data-testid="env"]');
  await env.waitFor();
  assert.equal(await env.locator('tr[data-name="MODE"] td').nth(1).textContent(), 'production');
  const secret = env.locator('tr[data-name="DB_PASSWORD"] td').nth(1);
  assert.equal(await secret.textContent(), '••••••');
  assert.ok(!(await p.page.locator('[data-testid="pod-detail"]').textContent()).includes('s3cr3t-value'));
  await p.page.getByTestId('reveal-secrets').click();
  assert.equal(await secret.textContent(), 's3cr3t-value');
  await p.page.getByTestId('close-detail').click();
  assert.equal(await p.page.locator('[data-testid="pod-detail"]').count(), 0);
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('Services show their ready endpoints (outlines and edges on hover), and a LoadBalancer gets its address', async () => {
  const p = await open();
  const web = p.page.locator('[data-testid="service"][data-name="web"]');
  await p.page.waitForFunction(() => document.querySelector('[data-testid="service"][data-name="web"]')?.dataset.ready === '3', null, { timeout: 30_000 });
  assert.equal(await web.getAttribute('data-endpoints'), '3');
  // Pointing at the Service outlines its Pods.
  await web.hover();
  const outlined = await p.page.locator('[data-testid="pod"]').evaluateAll((els) => els.filter((e) => getComputedStyle(e).outlineStyle === 'solid').length);
  assert.equal(outlined, 3);
  // …and draws an edge to each.
  assert.equal(await p.page.locator('[data-testid="service-edges"] line').count(), 3);
  await p.page.getByTestId('speed').selectOption('10');
  await p.run('kubectl create service loadbalancer public --tcp=80');
  const lb = p.page.locator('[data-testid="service"][data-name="public"]');
  await lb.waitFor();
  await p.page.waitForFunction(() => /^203\.0\.113\.\d+$/.test(document.querySelector('[data-testid="service"][data-name="public"]')?.dataset.external ?? ''), null, { timeout: 30_000 });
  await web.click();
  await p.waitForConsole('$ kubectl describe service web -n default');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('traffic to a LoadBalancer moves as dots to its Pods, counts per Pod, and fails visibly when the Pods go', async () => {
  const p = await open();
  await p.page.getByTestId('speed').selectOption('10');
  const send = p.page.locator('[data-testid="service"][data-name="web"] [data-testid="send-traffic"]');
  await send.waitFor({ timeout: 30_000 });
  await send.click();
  await p.waitForConsole('traffic source web started: 10 requests/s from outside the cluster');
  const source = p.page.locator('[data-testid="traffic-source"][data-name="web"]');
  await p.page.waitForFunction(() => Number(document.querySelector('[data-testid="traffic-source"][data-name="web"]')?.dataset.sent) >= 20, null, { timeout: 30_000 });
  // Requests in flight are dots; the Pods that answered count them.
  await p.page.locator('[data-testid="traffic-dot"][data-outcome="ok"]').first().waitFor({ timeout: 10_000 });
  const counted = await p.page.locator('[data-testid="pod"]').evaluateAll((els) => els.filter((e) => getComputedStyle(e, '::after').content.includes('⇣')).length);
  assert.equal(counted, 3, 'every web Pod shows its request count');
  assert.match(await p.page.locator('[data-testid="service"][data-name="web"] [data-testid="service-rate"]').textContent(), /^\d+ req\/s$/);
  assert.equal(await source.getAttribute('data-failed'), '0');
  // Its latest request's hops, in the console.
  await source.getByTestId('traffic-trace').click();
  await p.waitForConsole('kube-proxy\'s rules: DNAT to 10.244.');
  // With no Pods behind it, the Service refuses: the failures show.
  await p.run('kubectl scale deployment web --replicas=0');
  await p.page.waitForFunction(() => Number(document.querySelector('[data-testid="traffic-source"][data-name="web"]')?.dataset.failed) > 0, null, { timeout: 30_000 });
  await p.page.locator('[data-testid="traffic-dot"][data-outcome="failed"]').first().waitFor({ timeout: 10_000 });
  await source.getByTestId('traffic-toggle').click();
  await p.waitForConsole('traffic source web stopped');
  await p.page.waitForFunction(() => document.querySelector('[data-testid="traffic-source"][data-name="web"]')?.dataset.running === 'false');
  await p.screenshot('traffic');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('workloads show what they are doing: a Job runs to completion, a StatefulSet lists its ordinals', async () => {
  const p = await open();
  await p.page.getByTestId('speed').selectOption('10');
  await p.paste(`apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  template:
    spec:
      containers:
      - name: pi
        image: perl:5.34.0
        command: ["perl", "-Mbignum=bpi", "-wle", "print bpi(100)"]
      restartPolicy: Never
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 2
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: c
        image: busybox:1.36
        command: [sleep, infinity]
`);
  await p.applyButton.click();
  const job = p.page.locator('[data-testid="workload"][data-kind="Job"][data-name="pi"]');
  await job.waitFor();
  await p.page.waitForFunction(() => document.querySelector('[data-testid="workload"][data-kind="Job"][data-name="pi"]')?.dataset.summary === '1/1 succeeded', null, { timeout: 30_000 });
  assert.equal(await job.getAttribute('data-state'), 'ok');
  const sts = p.page.locator('[data-testid="workload"][data-kind="StatefulSet"][data-name="db"]');
  await p.page.waitForFunction(() => document.querySelector('[data-testid="workload"][data-kind="StatefulSet"][data-name="db"]')?.dataset.summary === '2/2 ready', null, { timeout: 30_000 });
  assert.match(await sts.textContent(), /0✓ 1✓/);
  await job.click();
  await p.waitForConsole('$ kubectl describe job pi -n default');
  await p.waitForConsole('Pods Statuses:');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

const corpus = process.env.KUBEPLAY_CORPUS ?? fileURLToPath(new URL('../../../shared/corpus/', import.meta.url));
const noCorpus = !existsSync(corpus) && `skipped: no shared corpus at ${corpus}`;

test('Diff shows what Apply would change; kubectl edit opens the live object in the editor and Save patches it; get -w prints as time passes', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  // Diff: the editor's manifests against the cluster, as kubectl diff prints it.
  const manifests = await p.editor.inputValue();
  await p.paste(manifests.replace('replicas: 3', 'replicas: 4'));
  await p.page.getByTestId('diff').click();
  await p.waitForConsole('$ kubectl diff -f playground.yaml\n');
  const diff = (await p.consoleOutput.textContent()).split('$ kubectl diff -f playground.yaml\n')[1];
  assert.match(diff, /^diff -u -N \/tmp\/LIVE-\d+\/apps\.v1\.Deployment\.default\.web \/tmp\/MERGED-\d+\/apps\.v1\.Deployment\.default\.web\n/);
  assert.match(diff, /\n- {2}replicas: 3\n\+ {2}replicas: 4\n/);
  // kubectl edit: the object's YAML replaces the manifests until Save or Cancel.
  await p.run('kubectl edit deployment web');
  await p.waitForConsole('Editing deployment.apps/web in the editor');
  const yaml = await p.editor.inputValue();
  assert.match(yaml, /^# Please edit the object below\./);
  assert.match(yaml, /\n {2}uid: [0-9a-f-]{36}\n/);
  await p.paste(yaml.replace('replicas: 3', 'replicas: 2'));
  await p.page.getByTestId('apply').click();
  await p.waitForConsole('deployment.apps/web edited');
  assert.match(await p.editor.inputValue(), /replicas: 4/, 'the manifests come back after the edit');
  await p.waitForPods(2);
  await p.run('kubectl edit deployment web');
  await p.page.getByTestId('cancel-edit').click();
  await p.waitForConsole('Edit cancelled, no changes made.');
  // A watch keeps printing rows under its command while the clock runs (a rollout here).
  await p.run('kubectl set image deployment/web nginx=nginx:1.28');
  await p.run('kubectl get pods -w');
  await p.waitForConsole('$ kubectl get pods -w\nNAME');
  await p.page.waitForFunction(() => {
    const text = document.querySelector('[data-testid="console-output"]').textContent;
    const watch = text.split('$ kubectl get pods -w\n')[1] ?? '';
    return /\n\S+ +1\/1 +Terminating /.test(watch);
  });
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('a node fails from its button: the control plane marks it NotReady and its Pods move on; it recovers', async () => {
  const p = await open();
  await p.waitForPods(3, '[data-phase="Running"]');
  await p.page.getByTestId('speed').selectOption('10');
  const worker2 = p.page.locator('[data-testid="node"][data-name="worker-2"]');
  await worker2.getByTestId('node-fault').click();
  await p.waitForConsole('node/worker-2 failed');
  assert.equal(await worker2.getAttribute('data-down'), 'true');
  // 50 s of grace, then NotReady.
  await p.page.waitForSelector('[data-testid="node"][data-name="worker-2"].not-ready', { timeout: 30_000 });
  await worker2.getByTestId('node-fault').click();
  await p.waitForConsole('node/worker-2 recovered');
  await p.page.waitForSelector('[data-testid="node"][data-name="worker-2"].ready', { timeout: 30_000 });
  await p.page.locator('[data-testid="node"][data-name="worker-1"]').getByTestId('node-cordon').click();
  await p.waitForConsole('node/worker-1 cordoned');
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('a Pending Pod\'s details say what would let it schedule, and one click applies the fix', async () => {
  const p = await open();
  await p.replaceManifests([
    'apiVersion: v1',
    'kind: Pod',
    'metadata:',
    '  name: fussy',
    'spec:',
    '  nodeSelector: {disk: ssd}',
    '  containers:',
    '  - name: c',
    '    image: nginx:1.27',
  ].join('\n'));
  await p.editor.press('Control+Enter');
  const chip = p.page.locator('[data-testid="pod"][data-name="fussy"]');
  await chip.waitFor();
  assert.equal(await chip.getAttribute('data-phase'), 'Pending');
  await chip.click();
  const detail = p.page.locator('[data-testid="pod-detail"][data-name="fussy"]');
  await detail.waitFor();
  const fixes = detail.getByTestId('fix');
  await fixes.first().waitFor();
  const texts = await fixes.allTextContents();
  assert.ok(texts.some((t) => /label worker-1 as the nodeSelector asks: kubectl label node worker-1 disk=ssd/.test(t)), texts.join('\n'));
  // "why pending?" prints the same in the console.
  await detail.getByTestId('explain-scheduling').click();
  await p.waitForConsole('$ kubeplay explain pod fussy -n default\n');
  assert.match(await p.consoleOutput.textContent(), /node\(s\) didn't match Pod's node affinity\/selector/);
  await fixes.filter({ hasText: 'label worker-1' }).getByTestId('apply-fix').click();
  await p.waitForConsole('node/worker-1 labeled');
  await p.page.waitForSelector('[data-testid="pod"][data-name="fussy"][data-phase="Running"]', { timeout: 30_000 });
  // Scheduled, the Pod has nothing left to fix.
  await detail.getByTestId('fixes').waitFor({ state: 'detached' });
  assert.deepEqual(p.errors, []);
  await p.page.close();
});

test('a real multi-document bundle (microservices-demo, 35 documents) applies and runs without page errors', { skip: noCorpus }, async () => {
  const { readFile } = await import('node:fs/promises');
  const bundle = await readFile(`${corpus}/microservices-demo/release/kubernetes-manifests.yaml`, 'utf8');
  const p = await open();
  await p.page.getByTestId('speed').selectOption('10');
  await p.paste(bundle);
  await p.applyButton.click();
  // The default example's 3 Pods and one Pod for each of the bundle's 12 Deployments.
  await p.waitForPods(15, '[data-phase="Running"]');
  const warnings = await p.page.locator('[data-testid="diagnostic"]').allTextContents();
  assert.equal(warnings.length, 11, 'one "stored, not simulated yet" notice per ServiceAccount');
  for (const w of warnings) assert.match(w, /warning: ServiceAccount "\S+" is stored, not simulated yet/);
  assert.deepEqual(p.errors, []);
  await p.screenshot('microservices-demo');
  await p.page.close();
});
