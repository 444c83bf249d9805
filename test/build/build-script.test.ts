import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/process.ts';

/**
 * esbuild and tsx are development dependencies: an installation without them (`npm ci --omit=dev` on a
 * host given a built dist/) still runs `npm start`, `npm run ctl` and `npm run runner`, whose pre-step is
 * `scripts/build.mjs --or-keep`. The script is run from a copy of scripts/ with no node_modules beside it,
 * so esbuild cannot be resolved, as on such a host.
 */
const dir = mkdtempSync(join(tmpdir(), 'aurora-build-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ENTRIES = ['main', 'worker', 'writer-thread', 'ctl', 'runner'];

function tree(name: string, withDist: boolean): string {
  const root = join(dir, name);
  mkdirSync(join(root, 'scripts'), { recursive: true });
  for (const f of ['build.mjs', 'bundle-options.cjs']) copyFileSync(join(REPO_ROOT, 'scripts', f), join(root, 'scripts', f));
  writeFileSync(join(root, 'package.json'), '{"type":"module","dependencies":{}}');
  if (withDist) {
    mkdirSync(join(root, 'dist'));
    for (const e of ENTRIES) writeFileSync(join(root, 'dist', `${e}.mjs`), '');
  }
  return root;
}

const run = (root: string, args: string[]) => spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs'), ...args], { cwd: root, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });

describe('scripts/build.mjs without esbuild installed', () => {
  it('--or-keep with a complete dist/: exits 0 and runs the dist/ it has', () => {
    const r = run(tree('kept', true), ['--or-keep']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('esbuild is not installed (a dev dependency): running the dist/ already built');
  });
  it('--or-keep with no dist/: exits 1 naming the missing dev dependency', () => {
    const r = run(tree('none', false), ['--or-keep', '--quiet']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('esbuild is not installed');
    expect(r.stderr).toContain('npm ci');
  });
  it('a plain build (npm run build, pretest) without esbuild fails even when a dist/ exists', () => {
    const r = run(tree('plain', true), ['--quiet']);
    expect(r.status).toBe(1);
  });
});
