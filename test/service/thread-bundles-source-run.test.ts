import { execFile } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseThreadUrl, sourceHash, threadModuleUrl } from '../../src/thread-module.ts';

/**
 * Issue 12 item 3: the worker and journal-writer threads must run the code the main thread runs. A main
 * thread run from source (`npm run dev`, vitest, tsx) used to load dist/*.mjs whenever it existed — a
 * bundle of whatever src/ was at the last build. Now such a main thread gets thread bundles built from the
 * current src/ into node_modules/.cache/aurora-threads/<content hash>/, and never a dist/ bundle.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/[\\/]$/, '');
const run = promisify(execFile);
const THREADS = ['worker', 'writer-thread'] as const;

describe('which bundle a thread loads', () => {
  it('a main thread run from a bundle gets the sibling bundle; one run from source gets the on-demand directory, never dist/', () => {
    expect(chooseThreadUrl('worker', 'file:///srv/aurora/dist/main.mjs', () => '/unused').href).toBe('file:///srv/aurora/dist/worker.mjs');
    let asked = false;
    const url = chooseThreadUrl('writer-thread', 'file:///srv/aurora/src/thread-module.ts', () => ((asked = true), '/cache/abc'));
    expect(asked).toBe(true);
    expect(url.href).toBe('file:///cache/abc/writer-thread.mjs');
  });

  it('this (source-run) process: the threads load bundles of the current src/ from the content-addressed cache, not dist/', () => {
    for (const name of THREADS) {
      const file = fileURLToPath(threadModuleUrl(name, `./${name}.ts`, import.meta.url));
      expect(file).not.toContain(`${sep}dist${sep}`);
      expect(file).toBe(join(ROOT, 'node_modules', '.cache', 'aurora-threads', sourceHash(ROOT), `${name}.mjs`));
      expect(existsSync(file)).toBe(true);
    }
  });
});

describe('a source-run main thread next to a stale dist/ (temporary copy of the repository)', () => {
  let tree: string;
  const probe = async (): Promise<Record<string, string>> => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', 'probe.ts'], { cwd: tree, timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, string>;
  };

  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'aurora-thread-src-'));
    for (const f of ['src', 'package.json', 'package-lock.json', 'tsconfig.json', 'scripts']) cpSync(join(ROOT, f), join(tree, f), { recursive: true });
    // node_modules: the packages linked one by one, so that the bundle cache (.cache) is this tree's own
    mkdirSync(join(tree, 'node_modules'));
    for (const e of readdirSync(join(ROOT, 'node_modules'))) if (e !== '.cache') symlinkSync(join(ROOT, 'node_modules', e), join(tree, 'node_modules', e));
    // a dist/ that does not match src/: loading it would be the bug
    mkdirSync(join(tree, 'dist'));
    for (const name of THREADS) writeFileSync(join(tree, 'dist', `${name}.mjs`), `throw new Error('STALE-DIST-MARKER ${name}');\n`);
    // the current source carries a marker of its own
    appendFileSync(join(tree, 'src', 'pool', 'worker.ts'), "\n(globalThis as Record<string, unknown>).__auroraSourceMarker = 'FRESH-SOURCE-MARKER-1';\n");
    writeFileSync(
      join(tree, 'probe.ts'),
      "import { threadModuleUrl } from './src/thread-module.ts';\n" +
        "console.log(JSON.stringify({ worker: threadModuleUrl('worker', './worker.ts', import.meta.url).href, writer: threadModuleUrl('writer-thread', './writer-thread.ts', import.meta.url).href }));\n",
    );
  });

  it('the threads get bundles of the current source from the cache; the stale dist/ is not loaded', async () => {
    const urls = await probe();
    for (const u of [urls.worker, urls.writer]) expect(u).not.toMatch(/\/dist\//);
    const worker = readFileSync(fileURLToPath(urls.worker), 'utf8');
    expect(worker).toContain('FRESH-SOURCE-MARKER-1');
    expect(worker).not.toContain('STALE-DIST-MARKER');
    const cache = join(tree, 'node_modules', '.cache', 'aurora-threads', sourceHash(tree));
    expect(fileURLToPath(urls.worker)).toBe(join(cache, 'worker.mjs'));
    expect(fileURLToPath(urls.writer)).toBe(join(cache, 'writer-thread.mjs'));
  }, 90_000);

  it('a source change gets a new bundle; processes building it at the same time all get the complete one', async () => {
    appendFileSync(join(tree, 'src', 'pool', 'worker.ts'), "(globalThis as Record<string, unknown>).__auroraSourceMarker2 = 'FRESH-SOURCE-MARKER-2';\n");
    const results = await Promise.all([probe(), probe(), probe()]);
    const cache = join(tree, 'node_modules', '.cache', 'aurora-threads');
    const dir = join(cache, sourceHash(tree));
    for (const r of results) expect(fileURLToPath(r.worker)).toBe(join(dir, 'worker.mjs'));
    expect(readFileSync(join(dir, 'worker.mjs'), 'utf8')).toContain('FRESH-SOURCE-MARKER-2');
    // the losers' temporary directories are gone; the previous version's bundle is still there (pruned after a day)
    expect(readdirSync(cache).filter((e) => e.startsWith('.tmp-'))).toEqual([]);
    expect(readdirSync(cache)).toHaveLength(2);
  }, 120_000);
});
