import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export type ThreadName = 'worker' | 'writer-thread';

/**
 * Where a thread entry point (`worker`, `writer-thread`) lives. Threads load plain JavaScript bundles, and
 * always the same code as the main thread that starts them:
 *
 * - main thread run from a bundle (its URL ends in .mjs, `npm start` = dist/main.mjs): the sibling bundle,
 *   built by the same `scripts/build.mjs` run;
 * - main thread run from source (`npm run dev`, vitest, tsx scripts): bundles built on demand from the
 *   current src/ with the options of scripts/bundle-options.cjs, into a content-addressed cache
 *   `node_modules/.cache/aurora-threads/<hash>/` (see `sourceThreadDir`). A dist/ bundle is never loaded
 *   then: it may be older than the source the main thread runs (issue 12 item 3).
 *
 * The two trailing parameters are no longer used (a thread never loads the .ts source) and stay for the
 * callers' sake.
 */
export function threadModuleUrl(name: ThreadName, _sourceRelative?: string, _sourceBase?: string): URL {
  return chooseThreadUrl(name, import.meta.url, () => sourceThreadDir());
}

/**
 * The rule of `threadModuleUrl`, with the main thread's module URL and the source-run bundle directory
 * injected (tests): a bundle's sibling, else the on-demand directory — never a dist/ guess.
 */
export function chooseThreadUrl(name: ThreadName, mainModuleUrl: string, sourceDir: () => string): URL {
  if (mainModuleUrl.endsWith('.mjs')) return new URL(`./${name}.mjs`, mainModuleUrl);
  return pathToFileURL(join(sourceDir(), `${name}.mjs`));
}

/** The repository root of this source file (src/..). */
const SOURCE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Files besides src/** whose content changes the bundles. */
const HASHED_FILES = ['package.json', 'package-lock.json', 'tsconfig.json', 'scripts/bundle-options.cjs'];

/** Cache directories of other source versions older than this are removed after a build. */
const PRUNE_AFTER_MS = 24 * 3600_000;

let cachedDir: string | null = null;

/** The thread bundles of the current source, built once per process (see `ensureThreadBundles`). */
export function sourceThreadDir(): string {
  cachedDir ??= ensureThreadBundles(SOURCE_ROOT).dir;
  return cachedDir;
}

/**
 * The content hash of a source tree: every file under src/ (path and bytes, in sorted order) plus
 * HASHED_FILES. About 2 ms for the repository's ~170 files / 1.2 MB (measured; the cache hit adds a stat).
 */
export function sourceHash(root: string): string {
  const h = createHash('sha256');
  const src = join(root, 'src');
  const files = (readdirSync(src, { recursive: true, withFileTypes: true }) as import('node:fs').Dirent[])
    .filter((d) => d.isFile())
    .map((d) => relative(root, join(d.parentPath ?? (d as unknown as { path: string }).path, d.name)).split('\\').join('/'))
    .sort();
  for (const rel of [...files, ...HASHED_FILES]) {
    h.update(rel);
    h.update('\0');
    const p = join(root, rel);
    if (existsSync(p)) h.update(readFileSync(p));
    h.update('\0');
  }
  return h.digest('hex').slice(0, 24);
}

export interface ThreadBundles {
  dir: string;
  hash: string;
  /** true when this call ran esbuild (false: the cache had this hash) */
  built: boolean;
  ms: number;
}

/**
 * Makes sure `<root>/node_modules/.cache/aurora-threads/<hash>/` holds the thread bundles of the source
 * tree at `root` and returns it. On a miss it bundles synchronously (esbuild buildSync, ~0.5 s), writes a
 * temporary directory next to it and renames it into place: several processes (vitest runs test files in
 * parallel) may build at once; the first rename wins, the others drop theirs and use it. A directory is
 * only ever visible complete.
 */
export function ensureThreadBundles(root: string, cacheRoot = join(root, 'node_modules', '.cache', 'aurora-threads')): ThreadBundles {
  const t0 = performance.now();
  const hash = sourceHash(root);
  const dir = join(cacheRoot, hash);
  if (isComplete(dir)) {
    touch(dir);
    return { dir, hash, built: false, ms: performance.now() - t0 };
  }
  const req = createRequire(join(root, 'package.json'));
  const opts = req(join(root, 'scripts', 'bundle-options.cjs')) as {
    THREAD_ENTRIES: ThreadName[];
    bundleOptions(root: string, names: string[], outdir: string): Record<string, unknown>;
  };
  const esbuild = req('esbuild') as { buildSync(o: Record<string, unknown>): { outputFiles: Array<{ path: string; contents: Uint8Array }> } };
  mkdirSync(cacheRoot, { recursive: true });
  const tmp = join(cacheRoot, `.tmp-${hash}-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    const result = esbuild.buildSync(opts.bundleOptions(root, opts.THREAD_ENTRIES, tmp));
    mkdirSync(tmp, { recursive: true });
    for (const f of result.outputFiles) writeFileSync(f.path, f.contents);
    try {
      renameSync(tmp, dir);
    } catch (err) {
      // another process renamed its build into place first (ENOTEMPTY/EEXIST): use that one
      if (!isComplete(dir)) throw err;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  prune(cacheRoot, hash);
  return { dir, hash, built: true, ms: performance.now() - t0 };
}

function isComplete(dir: string): boolean {
  return existsSync(join(dir, 'worker.mjs')) && existsSync(join(dir, 'writer-thread.mjs'));
}

/** Marks a directory as in use (pruning goes by its modification time). */
function touch(dir: string): void {
  try {
    const now = new Date();
    utimesSync(dir, now, now);
  } catch {
    /* read-only cache: harmless */
  }
}

/** Removes bundles of other source versions (and abandoned temporaries) not touched for a day. */
function prune(cacheRoot: string, keep: string): void {
  const now = Date.now();
  for (const e of readdirSync(cacheRoot)) {
    if (e === keep) continue;
    const p = join(cacheRoot, e);
    try {
      if (now - statSync(p).mtimeMs > PRUNE_AFTER_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      /* gone already, or in use elsewhere: not ours to insist */
    }
  }
}
