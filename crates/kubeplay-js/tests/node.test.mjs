// The npm package from Node (`wasm-pack build --target nodejs`): `run` prints exactly what
// the `kubeplay` CLI prints for the same files, script and seed; types ship with it.
// Usage: KUBEPLAY_JS=path/to/pkg KUBEPLAY_CLI=path/to/kubeplay node --test tests/node.test.mjs
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PKG = process.env.KUBEPLAY_JS ?? join(ROOT, 'target/kubeplay-js/nodejs');
const CLI = process.env.KUBEPLAY_CLI ?? join(ROOT, 'target/debug/kubeplay');
const kubeplay = createRequire(import.meta.url)(PKG);

test('the package is named kubeplay and ships TypeScript types', () => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  assert.equal(pkg.name, 'kubeplay');
  const types = readFileSync(join(PKG, pkg.types), 'utf8');
  for (const name of ['export function check(files: SourceFile[]): Diagnostic[];', 'export function run(options: RunOptions): RunResult;', 'export class Session', 'exec(command: string): ExecResult;']) {
    assert.ok(types.includes(name), name);
  }
});

test('run() prints byte for byte what `kubeplay run` prints, for every example', () => {
  const examples = readdirSync(join(ROOT, 'examples'), { recursive: true }).filter((f) => f.endsWith('.yaml'));
  assert.ok(examples.length > 30);
  for (const name of examples) {
    const path = join(ROOT, 'examples', name);
    const text = readFileSync(path, 'utf8');
    const script = 'sleep 30s\nkubectl get pods -o wide\nkubectl get events';
    const cli = execFileSync(CLI, ['run', '--seed', '7', '-f', path, '-e', script], { encoding: 'utf8' });
    const js = kubeplay.run({ files: [{ name: path, text }], script, seed: 7 });
    assert.equal(js.transcript, cli, name);
    assert.equal(js.snapshot.kind, 'List');
    assert.ok(js.snapshot.items.some((o) => o.kind === 'Node'));
  }
});

test('check() gives what `kubeplay check` prints, as objects', () => {
  const text = 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  replicas: "three"\n';
  const diagnostics = kubeplay.check([{ name: 'd.yaml', text }]);
  assert.ok(diagnostics.length > 0);
  for (const d of diagnostics) {
    assert.deepEqual(Object.keys(d).sort(), ['column', 'file', 'line', 'message', 'severity']);
  }
});

test('a Session: exec, advance, now', () => {
  const s = new kubeplay.Session({ seed: 3, files: [{ name: 'pod.yaml', text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: nginx:1.27\n' }] });
  s.advance(10_000);
  assert.equal(s.now() >= 10_000, true);
  const out = s.exec('kubectl get pod p');
  assert.equal(out.ok, true);
  assert.match(out.output, /^NAME   READY   STATUS    RESTARTS   AGE\np      1\/1     Running   0          1\ds\n$/);
  assert.throws(() => new kubeplay.Session({ seed: 'x' }));
  s.free();
});
