import { readFileSync } from 'node:fs';
import { parsePrometheus } from '../../src/ctl/prom.ts';
import { http } from '../helpers/gate.ts';

/**
 * Small helpers of the fault tests: Prometheus text look-ups, /health and /metrics polling, and the
 * resident set size of a process read from /proc (the figure an operator's `ps`/cgroup sees).
 */

/**
 * Value of one sample in Prometheus text format (`name{a="b"} 12`), parsed by src/ctl/prom.ts; labels must
 * match exactly (same set, same values). NaN if absent.
 */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels);
  const s = parsePrometheus(text).find((x) => x.name === name && Object.keys(x.labels).length === want.length && want.every(([k, v]) => x.labels[k] === v));
  return s === undefined ? NaN : s.value;
}

export async function metricsText(url: string): Promise<string> {
  return (await http(`${url}/metrics`, 'GET')).text;
}

export async function health(url: string): Promise<Record<string, unknown>> {
  const r = await http(`${url}/health`, 'GET');
  return (r.json ?? {}) as Record<string, unknown>;
}

/** Polls `cond` (async) every `stepMs` until it holds or `timeoutMs` passed; returns whether it held. */
export async function eventually(cond: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 20): Promise<boolean> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    if (await cond()) return true;
    if (performance.now() > end) return false;
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** VmRSS of a process in bytes (NaN when it is gone). */
export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

export const MiB = 1024 * 1024;
