/**
 * The gate's expected return of a trade in bps (the §3.5 check): E[π] = p·b − (1−p)·a − (fees + slip),
 * with p the win probability, b / a the take-profit / stop-loss distances in bps. Fees and slippage are
 * summed before they are subtracted, exactly as the decision pipeline always did (results must stay
 * bit-identical to the reference vectors); the runner's local pre-check and stub gate use it too.
 */
export function expectedReturnBps(pWin: number, bBps: number, aBps: number, feesBps: number, slipBps: number): number {
  return pWin * bBps - (1 - pWin) * aBps - (feesBps + slipBps);
}
