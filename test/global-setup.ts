import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * One temporary root per test run: every test file (and every gate it starts, in-process or as a child)
 * makes its temp dirs under TMPDIR, which points here, and the whole tree goes at the end. Gates
 * journal real files; a run used to leave ~500 session directories behind. AURORA_KEEP_TEST_TMP=1
 * keeps it (the path is printed).
 */
let root: string | null = null;

export function setup(): void {
  root = mkdtempSync(join(tmpdir(), 'aurora-test-run-'));
  process.env.TMPDIR = root;
}

export function teardown(): void {
  if (root === null) return;
  if (process.env.AURORA_KEEP_TEST_TMP === '1') console.log(`test temp files kept in ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
