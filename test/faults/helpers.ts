import { readFileSync } from 'node:fs';
import { http } from '../helpers/gate.ts';

/**
 * Small helpers of the fault tests: Prometheus text look-ups, /health and /metrics polling, and the
 * resident set size of a process read from /proc (the figure an operator's `ps`/cgroup sees).
 */

/** Value of one sample in Prometheus text format (`name{a="b"} 12`); labels must match exactly. NaN if absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .sort()
    .join(',');
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][\w:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (m === null || m[1] !== name) continue;
    const got = (m[2] ?? '')
      .split(/,(?=[a-zA-Z_]\w*=")/)
      .filter((s) => s.length > 0)
      .sort()
      .join(',');
    if (got === want) return Number(m[3]);
  }
  return NaN;
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
