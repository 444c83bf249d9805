import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

export interface SessionFile {
  /** relative to the session dir, "/" separated */
  rel: string;
  abs: string;
  size: number;
  mtimeMs: number;
}

export interface SessionListing {
  files: SessionFile[];
  /** entries not archived (symlinks, sockets, ...) and why */
  skipped: Array<{ path: string; reason: string }>;
  /** the most recent modification of any file or directory in the tree, and where */
  newest: { path: string; mtimeMs: number };
}

/**
 * Every regular file under `dir`, recursively, sorted by path. Symbolic links are not followed (an
 * archive of a session must not pull in files from elsewhere) and are listed as skipped.
 */
export function listSession(dir: string): SessionListing {
  const files: SessionFile[] = [];
  const skipped: SessionListing['skipped'] = [];
  const top = lstatSync(dir);
  let newest = { path: '.', mtimeMs: top.mtimeMs };
  const walk = (abs: string, rel: string) => {
    for (const name of readdirSync(abs).sort()) {
      const a = join(abs, name);
      const r = rel === '' ? name : `${rel}/${name}`;
      const st = lstatSync(a);
      if (st.mtimeMs > newest.mtimeMs) newest = { path: r, mtimeMs: st.mtimeMs };
      if (st.isDirectory()) walk(a, r);
      else if (st.isFile()) files.push({ rel: r, abs: a, size: st.size, mtimeMs: st.mtimeMs });
      else skipped.push({ path: r, reason: st.isSymbolicLink() ? 'symbolic link (not followed)' : 'not a regular file' });
    }
  };
  walk(dir, '');
  files.sort((x, y) => (x.rel < y.rel ? -1 : x.rel > y.rel ? 1 : 0));
  return { files, skipped, newest };
}

/**
 * Why the session looks live (written to within the last `minIdleSec`, or stamped in the future),
 * or null. A gate that is running but idle is not detected: stop it first.
 */
export function livenessProblem(listing: SessionListing, nowMs: number, minIdleSec: number): string | null {
  const ageMs = nowMs - listing.newest.mtimeMs;
  if (ageMs < minIdleSec * 1000) {
    const when = ageMs < 0 ? `${Math.round(-ageMs / 1000)} s in the future` : `${Math.round(ageMs / 1000)} s ago`;
    return `it looks like a live session: ${listing.newest.path} was modified ${when} (less than ${minIdleSec} s)`;
  }
  return null;
}
