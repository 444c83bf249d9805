import { describe, expect, it } from 'vitest';
import type { GateService, Reply } from '../../src/gate/service.ts';
import { JournalBatch } from '../../src/journal/line-batch.ts';
import { Decider, handOverJournal, isRefusal, OVERLOADED, SHUTTING_DOWN, type Backend } from '../../src/pool/decide.ts';

/**
 * The dispatch policy (src/pool/decide.ts) without threads: where a request is decided, the refusals,
 * and journal before reply on the main thread.
 */

interface Fake {
  backend: Backend<string>;
  log: string[];
  setInflight(n: number): void;
  setAccept(ok: boolean): void;
}

function fake(opts: { workers: boolean; inline: boolean; idleGapMs?: number }): Fake {
  const log: string[] = [];
  let inflight = 0;
  let accept = true;
  const reply: Reply = { status: 200, body: '{"allow":true}' };
  const inline = { handleBytes: (kind: number) => (log.push(`inline ${kind}`), reply) } as unknown as GateService;
  return {
    log,
    setInflight: (n) => (inflight = n),
    setAccept: (ok) => (accept = ok),
    backend: {
      submit: opts.workers ? (kind, _b, target) => (log.push(`submit ${kind} ${target}`), accept) : null,
      inflight: () => inflight,
      inline: opts.inline ? inline : null,
      idleGapMs: opts.idleGapMs ?? 0.05,
      flush: () => log.push('flush'),
    },
  };
}

const BYTES = new Uint8Array([0x7b, 0x7d]);

describe('Decider', () => {
  it('pool size 0: every request inline, its journal lines handed over before the reply is returned', () => {
    const f = fake({ workers: false, inline: true });
    const d = new Decider(f.backend);
    for (let i = 0; i < 3; i++) {
      const r = d.decide(1, BYTES, 't', 1000); // same arrival time: the gap rule does not apply without workers
      expect(r).toEqual({ status: 200, body: '{"allow":true}' });
      expect(isRefusal(r!)).toBe(false);
      // the flush happened inside decide: the reply is returned after it
      expect(f.log.splice(0)).toEqual(['inline 1', 'flush']);
    }
  });

  it('workers, inline_when_idle: inline only when nothing is in flight and the previous arrival is idleGapMs old', () => {
    const f = fake({ workers: true, inline: true, idleGapMs: 0.05 });
    const d = new Decider(f.backend);
    expect(d.decide(1, BYTES, 'a', 10)).not.toBeNull(); // first request: quiet gate
    expect(f.log.splice(0)).toEqual(['inline 1', 'flush']);
    expect(d.decide(3, BYTES, 'b', 10.01)).toBeNull(); // 10 us later: a burst goes to the workers
    expect(f.log.splice(0)).toEqual(['submit 3 b']);
    f.setInflight(1);
    expect(d.decide(2, BYTES, 'c', 20)).toBeNull(); // quiet, but a worker holds a request
    expect(f.log.splice(0)).toEqual(['submit 2 c']);
    f.setInflight(0);
    expect(d.decide(2, BYTES, 'd', 20.05)).not.toBeNull(); // exactly the gap, nothing in flight
    expect(f.log.splice(0)).toEqual(['inline 2', 'flush']);
  });

  it('workers without inline_when_idle: always a worker; a full pool is refused OVERLOADED', () => {
    const f = fake({ workers: true, inline: false });
    const d = new Decider(f.backend);
    expect(d.decide(1, BYTES, 'a', 1e6)).toBeNull();
    f.setAccept(false);
    const r = d.decide(1, BYTES, 'b', 2e6);
    expect(r).toBe(OVERLOADED);
    expect(isRefusal(r!)).toBe(true);
    expect(JSON.parse(r!.body)).toEqual({ error: { code: 'overloaded', message: 'every worker queue is full; retry shortly' } });
    expect(f.log).toEqual(['submit 1 a', 'submit 1 b']);
  });

  it('stopping: refused SHUTTING_DOWN, nothing decided or submitted', () => {
    for (const workers of [false, true]) {
      const f = fake({ workers, inline: true });
      const d = new Decider(f.backend);
      d.stopping = true;
      const r = d.decide(1, BYTES, 'a', 1e6);
      expect(r).toBe(SHUTTING_DOWN);
      expect(r!.status).toBe(503);
      expect(JSON.parse(r!.body).error.code).toBe('shutting_down');
      expect(f.log).toEqual([]);
    }
  });

  it('handOverJournal: lines to the writer, or dropped when the journal is off; nothing to do for an empty batch', () => {
    const batch = new JournalBatch();
    const written: number[] = [];
    const out = { write: (b: JournalBatch) => (written.push(b.lines), b.clear()) };
    handOverJournal(batch, out);
    expect(written).toEqual([]);
    batch.add('events', '{"a":1}');
    batch.add('events', '{"a":2}');
    handOverJournal(batch, out);
    expect(written).toEqual([2]);
    batch.add('events', '{"a":3}');
    handOverJournal(batch, null);
    expect(batch.lines).toBe(0);
    expect(written).toEqual([2]);
  });
});
