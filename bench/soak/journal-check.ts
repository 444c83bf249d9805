import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { ANSWER_200 } from './client.ts';
import { isDenied } from './bodies.ts';

/**
 * After the run (the gate stopped cleanly): every line of every journal file — live files, rotated plain
 * archives and `.jsonl.gz` archives — must parse as a JSON object; every check the client saw answered 200
 * must have exactly one POLICY.DECISION (matched by `req_id`), and every denied one exactly one
 * orders_denied line. Streams the files: a 10-minute run writes gigabytes.
 */

export interface JournalCheck {
  files: number;
  lines: number;
  torn: number;
  tornExamples: string[];
  answered200: number;
  /** answered 200, no POLICY.DECISION */
  lost: number;
  /** more than one POLICY.DECISION for one req_id */
  doubled: number;
  /** a POLICY.DECISION for a request the client did not see answered 200 */
  unanswered: number;
  /** answered 200 with a denied body: each needs one orders_denied line */
  deniedExpected: number;
  /** of those, how many have an orders_denied line */
  deniedJournaled: number;
  /** orders_denied lines of requests the client did not see answered 200 (reported, like `unanswered`; not a failure) */
  deniedUnanswered: number;
  /** orders_denied lines of requests answered 200 whose body is not the denied variant */
  deniedUnexpected: number;
  /** more than one orders_denied line for one req_id */
  deniedDoubled: number;
  ok: boolean;
}

/** Journal files of a session dir; a gzipped archive whose plain twin still exists is skipped (same lines). */
function journalFiles(dir: string): string[] {
  const names = readdirSync(dir);
  return names
    .filter((n) => n.endsWith('.jsonl') || (n.endsWith('.jsonl.gz') && !names.includes(n.slice(0, -3))))
    .sort()
    .map((n) => join(dir, n));
}

async function* lines(path: string): AsyncGenerator<string> {
  const raw = createReadStream(path);
  const input = path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  yield* createInterface({ input, crlfDelay: Infinity });
}

/** `answers[i]` (client outcome of request i, see client.ts) for `prefix-i`, i < issued. */
export async function checkJournal(dir: string, prefix: string, answers: Uint8Array, issued: number): Promise<JournalCheck> {
  const decisions = new Uint8Array(issued);
  const denied = new Uint8Array(issued);
  const idStart = `${prefix}-`;
  const r: JournalCheck = { files: 0, lines: 0, torn: 0, tornExamples: [], answered200: 0, lost: 0, doubled: 0, unanswered: 0, deniedExpected: 0, deniedJournaled: 0, deniedUnanswered: 0, deniedUnexpected: 0, deniedDoubled: 0, ok: false };
  const index = (id: unknown): number => {
    if (typeof id !== 'string' || !id.startsWith(idStart)) return -1;
    const i = Number(id.slice(idStart.length));
    return Number.isInteger(i) && i >= 0 && i < issued ? i : -1;
  };
  if (!existsSync(dir)) return r;
  for (const path of journalFiles(dir)) {
    r.files++;
    const isEvents = path.includes('aurora_events');
    const isDeniedFile = path.includes('orders_denied');
    for await (const line of lines(path)) {
      r.lines++;
      let rec: Record<string, unknown>;
      try {
        const v: unknown = JSON.parse(line);
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        rec = v as Record<string, unknown>;
      } catch {
        r.torn++;
        if (r.tornExamples.length < 5) r.tornExamples.push(`${path}: ${line.slice(0, 120)}`);
        continue;
      }
      if (isEvents && rec.event_code === 'POLICY.DECISION') {
        const i = index((rec.details as Record<string, unknown> | null)?.req_id);
        if (i >= 0 && decisions[i] < 255) decisions[i]++;
      } else if (isDeniedFile) {
        const i = index(rec.req_id);
        if (i >= 0 && denied[i] < 255) denied[i]++;
      }
    }
  }
  for (let i = 0; i < issued; i++) {
    const answered = answers[i] === ANSWER_200;
    if (answered) r.answered200++;
    if (decisions[i] > 1) r.doubled++;
    if (answered && decisions[i] === 0) r.lost++;
    if (!answered && decisions[i] > 0) r.unanswered++;
    if (answered && isDenied(i)) {
      r.deniedExpected++;
      if (denied[i] > 0) r.deniedJournaled++;
    } else if (denied[i] > 0) {
      if (answered) r.deniedUnexpected++;
      else r.deniedUnanswered++;
    }
    if (denied[i] > 1) r.deniedDoubled++;
  }
  r.ok = r.torn === 0 && r.lost === 0 && r.doubled === 0 && r.deniedDoubled === 0 && r.deniedUnexpected === 0 && r.deniedJournaled === r.deniedExpected;
  return r;
}
