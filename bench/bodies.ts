/** Request bodies shared by every benchmark: the standard allowed check (~470 bytes) and a denied one. */
export const ALLOWED_BODY = {
  ts: 1700000000000,
  req_id: 'bench-1',
  account: { mode: 'paper', account_id: 'acc-1' },
  order: { symbol: 'BTCUSDT', side: 'buy', qty: 0.01, price: 50000.0, base_notional: 500.0 },
  market: {
    latency_ms: 5.0,
    slip_bps_est: 1.0,
    a_bps: 10.0,
    b_bps: 20.0,
    spread_bps: 2.0,
    score: 1.0,
    mode_regime: 'normal',
    trap_cancel_deltas: [1, 1, 1, 1, 1],
    trap_add_deltas: [1, 1, 1, 1, 1],
    trap_trades_cnt: 3,
    obi_sign: 1,
    tfi_sign: 1,
    pnl_today_pct: -1.0,
    open_positions: 1,
  },
  fees_bps: 1.0,
};

export const ALLOWED_JSON = JSON.stringify(ALLOWED_BODY);
