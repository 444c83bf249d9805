import type { SprtConfig } from './config.ts';

export type SprtDecision = 'ACCEPT' | 'REJECT' | 'CONTINUE';

export interface SprtResult {
  decision: SprtDecision;
  llr: number;
  nObs: number;
}

/**
 * Wald SPRT over the samples (gate.md 4.5) with mu0 = 0, mu1 = score (D17). The budget is measured on
 * the monotonic clock handed in (`nowMs`), so tests can drive it.
 */
export function runSprt(cfg: SprtConfig, mu1: number, samples: readonly number[], nowMs: () => number): SprtResult {
  const mu0 = 0;
  const twoSigma2 = 2 * cfg.sigma * cfg.sigma;
  let llr = 0;
  let n = 0;
  let decision: SprtDecision = 'CONTINUE';
  const started = nowMs();
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    if (n >= cfg.maxObs) {
      decision = llr >= 0 ? 'ACCEPT' : 'REJECT';
    } else {
      llr += ((x - mu0) ** 2 - (x - mu1) ** 2) / twoSigma2;
      n += 1;
      if (llr >= cfg.A) decision = 'ACCEPT';
      else if (llr <= cfg.B) decision = 'REJECT';
      else if (n >= cfg.maxObs) decision = llr >= 0 ? 'ACCEPT' : 'REJECT';
      else decision = 'CONTINUE';
    }
    if (decision !== 'CONTINUE') break;
    if (nowMs() - started > cfg.timeoutMs) return { decision: 'CONTINUE', llr, nObs: n };
  }
  return { decision, llr, nObs: n };
}

/** Wald thresholds from error rates: A = ln((1-beta)/alpha), B = ln(beta/(1-alpha)). */
export function waldThresholds(alpha: number, beta: number): { A: number; B: number } {
  return { A: Math.log((1 - beta) / alpha), B: Math.log(beta / (1 - alpha)) };
}
