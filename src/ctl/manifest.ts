import { createHash } from 'node:crypto';
import { createGunzip } from 'node:zlib';
import Type, { type Static } from 'typebox';
import { compileValidator } from '../schema/validate.ts';

/** The manifest's file name inside the archive (at the archive root, next to the session's files). */
export const MANIFEST_NAME = 'MANIFEST.json';
const MANIFEST_FORMAT = 'aurora-session-archive/1';

/**
 * How a file's lines are counted: `text` (.jsonl/.json/.log) its bytes, `gzip` (.gz) its decompressed
 * bytes, `other` not at all. Stored per file so a verifier needs no rules of its own.
 */
export const FileKind = Type.Union([Type.Literal('text'), Type.Literal('gzip'), Type.Literal('other')]);
export type FileKind = Static<typeof FileKind>;

const Count = Type.Integer({ minimum: 0 });
export const ManifestEntry = Type.Object({
  path: Type.String({ minLength: 1, description: 'relative to the session dir, "/" separated' }),
  size: Count,
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  kind: FileKind,
  lines: Type.Union([Count, Type.Null()], { description: 'newline-terminated lines, plus an unterminated last one; null for kind other' }),
  mtime_ms: Count,
});
export type ManifestEntry = Static<typeof ManifestEntry>;

export const Manifest = Type.Object({
  format: Type.Literal(MANIFEST_FORMAT),
  created_at: Type.String(),
  created_ms: Count,
  session: Type.String({ description: 'the session directory name' }),
  root: Type.String({ description: 'the directory every entry of the archive is under' }),
  files: Type.Array(ManifestEntry),
  totals: Type.Object({ files: Count, bytes: Count, lines: Count }),
  skipped: Type.Array(Type.Object({ path: Type.String(), reason: Type.String() })),
});
export type Manifest = Static<typeof Manifest>;

const manifestValidator = compileValidator<Manifest>(Manifest);

const TEXT_EXT = ['.jsonl', '.json', '.log'];

export function kindOf(path: string): FileKind {
  const p = path.toLowerCase();
  if (p.endsWith('.gz')) return 'gzip';
  return TEXT_EXT.some((e) => p.endsWith(e)) ? 'text' : 'other';
}

/** Counts lines the way `wc -l` does, plus one for a last line without a newline. */
export class LineCounter {
  private newlines = 0;
  private last = -1;
  private bytes = 0;

  update(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) this.newlines++;
    this.last = chunk[chunk.length - 1];
    this.bytes += chunk.length;
  }

  get lines(): number {
    return this.newlines + (this.bytes > 0 && this.last !== 10 ? 1 : 0);
  }
}

export interface ContentFacts {
  size: number;
  sha256: string;
  /** lines of the bytes as they are */
  textLines: number;
  /** lines of the decompressed bytes, when gunzip was asked for and worked */
  gzipLines: number | null;
  /** why gunzip failed, when it was asked for */
  gzipError?: string;
}

/**
 * Size, SHA-256 and line counts of one file's bytes, fed in chunks: the raw line count always, and
 * the decompressed one when `gunzip` is set (a .gz file), so a verifier can apply whichever kind the
 * manifest recorded.
 */
export class ContentDigest {
  private readonly hash = createHash('sha256');
  private size = 0;
  private readonly text = new LineCounter();
  private readonly inflated = new LineCounter();
  private readonly gunzip: ReturnType<typeof createGunzip> | null = null;
  private readonly gunzipDone: Promise<string | null> | null = null;

  constructor(gunzip: boolean) {
    if (gunzip) {
      const g = createGunzip();
      this.gunzip = g;
      g.on('data', (c: Buffer) => this.inflated.update(c));
      this.gunzipDone = new Promise((resolve) => {
        g.once('end', () => resolve(null));
        g.once('error', (e: Error) => resolve(e.message));
      });
    }
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.length;
    this.text.update(chunk);
    if (this.gunzip !== null && !this.gunzip.destroyed) this.gunzip.write(chunk);
  }

  async finish(): Promise<ContentFacts> {
    const facts: ContentFacts = { size: this.size, sha256: this.hash.digest('hex'), textLines: this.text.lines, gzipLines: null };
    if (this.gunzip === null) return facts;
    this.gunzip.end();
    const error = await this.gunzipDone!;
    if (error !== null) return { ...facts, gzipError: `not a valid gzip file (${error})` };
    return { ...facts, gzipLines: this.inflated.lines };
  }
}

/** The line count a manifest records for `kind`, or an error when a gzip did not decompress. */
export function linesFor(kind: FileKind, f: ContentFacts): { lines: number | null; error?: string } {
  if (kind === 'text') return { lines: f.textLines };
  if (kind === 'other') return { lines: null };
  if (f.gzipError !== undefined) return { lines: null, error: f.gzipError };
  return { lines: f.gzipLines };
}

export interface ManifestInput {
  session: string;
  root: string;
  createdMs: number;
  files: readonly ManifestEntry[];
  skipped: ReadonlyArray<{ path: string; reason: string }>;
}

/** Assembles the manifest (files sorted by path, totals summed) from facts already gathered. */
export function buildManifest(input: ManifestInput): Manifest {
  const files = [...input.files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return {
    format: MANIFEST_FORMAT,
    created_at: new Date(input.createdMs).toISOString(),
    created_ms: input.createdMs,
    session: input.session,
    root: input.root,
    files,
    totals: {
      files: files.length,
      bytes: files.reduce((s, f) => s + f.size, 0),
      lines: files.reduce((s, f) => s + (f.lines ?? 0), 0),
    },
    skipped: [...input.skipped],
  };
}

export const manifestText = (m: Manifest): string => `${JSON.stringify(m, null, 2)}\n`;

/** Parses and schema-checks a manifest; throws a readable error. */
export function parseManifest(text: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`${MANIFEST_NAME} is not JSON: ${(err as Error).message}`);
  }
  if (!manifestValidator.check(value)) {
    const why = manifestValidator.errors(value).map((e) => `${e.path} ${e.message}`).join('; ');
    throw new Error(`${MANIFEST_NAME} does not have the expected shape: ${why}`);
  }
  return value;
}

/** What the verifier measured for one archive entry. */
export interface ObservedFile extends ContentFacts {
  path: string;
}

/**
 * Every disagreement between a manifest and the files found in an archive: missing, unexpected,
 * size, SHA-256 or line count differences, and totals that do not add up. Empty = verified.
 */
export function compareWithManifest(m: Manifest, observed: ReadonlyMap<string, ObservedFile>): string[] {
  const problems: string[] = [];
  const listed = new Set<string>();
  for (const f of m.files) {
    if (listed.has(f.path)) problems.push(`${f.path}: listed twice in the manifest`);
    listed.add(f.path);
    const o = observed.get(f.path);
    if (o === undefined) {
      problems.push(`${f.path}: in the manifest but not in the archive`);
      continue;
    }
    if (o.size !== f.size) problems.push(`${f.path}: size ${o.size} bytes, manifest says ${f.size}`);
    if (o.sha256 !== f.sha256) problems.push(`${f.path}: sha256 ${o.sha256}, manifest says ${f.sha256}`);
    const got = linesFor(f.kind, o);
    if (got.error !== undefined) problems.push(`${f.path}: ${got.error}`);
    else if (got.lines !== f.lines) problems.push(`${f.path}: ${got.lines ?? 'no'} lines (${f.kind}), manifest says ${f.lines ?? 'none'}`);
  }
  for (const path of observed.keys()) if (!listed.has(path)) problems.push(`${path}: in the archive but not in the manifest`);
  const bytes = m.files.reduce((s, f) => s + f.size, 0);
  const lines = m.files.reduce((s, f) => s + (f.lines ?? 0), 0);
  if (m.totals.files !== m.files.length || m.totals.bytes !== bytes || m.totals.lines !== lines) {
    problems.push(`manifest totals (${m.totals.files} files, ${m.totals.bytes} bytes, ${m.totals.lines} lines) do not match its file list (${m.files.length}, ${bytes}, ${lines})`);
  }
  return problems;
}
