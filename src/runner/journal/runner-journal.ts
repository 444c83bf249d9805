import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlFile } from './jsonl-file.ts';

/** The append streams under `<session>/runner/` (runner.md §2.4 Ours). */
export const STREAMS = ['events', 'orders', 'fills', 'gate_calls', 'posttrade_unsent'] as const;
export type StreamName = (typeof STREAMS)[number];

export interface JournalOptions {
  /** rotate a file at this size (`logging.max_mb`) */
  maxBytes: number;
  /** flush interval (`logging.flush_ms`, 100) */
  flushMs: number;
}

/**
 * The runner's own files, never mixed with the gate's (§5.15): `events.jsonl` (one record per decision
 * step, with `origin: local|gate|exchange`), `orders.jsonl` (every order state transition),
 * `fills.jsonl`, `gate_calls.jsonl` (req_id, transport, RTT, outcome), `posttrade_unsent.jsonl`
 * (posttrade bodies the gate never took), plus `config.json` and `summary.json` written whole. A file
 * is created on its first line, so an empty stream leaves no empty file behind.
 */
export class RunnerJournal {
  readonly dir: string;
  private readonly files = new Map<StreamName, JsonlFile>();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  writeErrors = 0;

  constructor(
    sessionDir: string,
    private readonly opts: JournalOptions,
  ) {
    this.dir = join(sessionDir, 'runner');
    mkdirSync(this.dir, { recursive: true });
    this.timer = setInterval(() => this.flush(), opts.flushMs);
    this.timer.unref();
  }

  path(name: StreamName | 'config' | 'summary'): string {
    return join(this.dir, name === 'config' || name === 'summary' ? `${name}.json` : `${name}.jsonl`);
  }

  write(name: StreamName, record: Record<string, unknown>): void {
    if (this.closed) return;
    let f = this.files.get(name);
    if (!f) {
      f = new JsonlFile(this.path(name), this.opts.maxBytes);
      this.files.set(name, f);
    }
    f.write(record);
  }

  /** Lines written to a stream so far. */
  count(name: StreamName): number {
    return this.files.get(name)?.lines ?? 0;
  }

  /** Writes a whole JSON document atomically (temp file + rename). */
  writeJson(name: 'config' | 'summary', value: unknown): string {
    const path = this.path(name);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
    renameSync(tmp, path);
    return path;
  }

  /** Flushes every stream; a failing write is counted (`writeErrors`), never thrown out of a timer. */
  flush(): void {
    for (const f of this.files.values()) {
      try {
        f.flush();
      } catch {
        this.writeErrors++;
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const f of this.files.values()) {
      try {
        f.close();
      } catch {
        this.writeErrors++;
      }
    }
  }
}
