import { createHash, timingSafeEqual } from 'node:crypto';
import type { CoreConfig } from '../core/config.ts';
import type { GateEvent } from '../core/events.ts';
import { governanceHalted, governanceResume } from '../core/governance.ts';
import { guardSnapshot, opsCooloff, opsReset, setArmed, type GuardSnapshot } from '../core/health-guard.ts';
import type { GateState } from '../shm/state/gate-state.ts';
import { Ctl } from '../shm/state/gate-state.ts';
import { maskToken, tokenProblem } from '../config/resolve.ts';
import { eventLine } from '../journal/records.ts';
import { tsNsText } from '../journal/ts-ns.ts';
import { RiskSetRequest, RotateTokenRequest } from '../schema/ops.ts';
import { tradingStateValidator } from '../schema/controls.ts';
import { effectiveLimits, mergeLimits, tradingStateName } from '../core/controls/config.ts';
import { controlsSnapshot, expiredEvent, LiveControls, publishControls, setTradingState } from '../core/controls/evaluate.ts';
import type { ControlsConfig } from '../core/controls/config.ts';
import type { ControlsState } from '../core/controls/state.ts';
import { readControlsGauges, type ControlsGauges } from '../metrics/controls.ts';
import { compileValidator } from '../schema/validate.ts';
import { fail, invalidRequest, type Failure } from './errors.ts';
import type { JournalBatch } from '../journal/line-batch.ts';
import type { Clock, StateLock } from './pretrade.ts';
import type { GateCounters } from './counters.ts';
import { registerTestHooks } from '../testing/hooks.ts';

export interface OpsReply {
  status: number;
  body: unknown;
}

const riskSet = compileValidator<RiskSetRequest>(RiskSetRequest);
const rotate = compileValidator<RotateTokenRequest>(RotateTokenRequest);

export const ROTATION_COOLDOWN_MS = 30_000;
export const MAX_COOLOFF_SEC = 86_400;
const AUTH_FAILS_PER_MINUTE = 10;

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Ops endpoints (service.md 1, 1.1, 1.2, 5.1), framework-free: the transport passes headers and bodies
 * in and writes the reply out. Runs on the main thread; state changes take the shared lock.
 */
export class Ops {
  private tokenDigest: Buffer | null;
  private lastRotationMs = 0;
  private readonly failures = new Map<string, number[]>();
  /** the main thread's view of the live desk controls (rebuilt when a POST /ops/limits publishes) */
  private readonly live: LiveControls;
  authFailures = 0;
  rotations = 0;

  constructor(
    private readonly cfg: CoreConfig,
    private readonly state: GateState,
    private readonly lock: StateLock,
    private readonly clock: Clock,
    private readonly journal: JournalBatch,
    private readonly counters: GateCounters,
    private readonly runId: string,
    token: string | null,
    private readonly allowlist: readonly string[],
    private readonly version: string,
    private readonly flush: () => void,
  ) {
    this.tokenDigest = token === null ? null : digest(token);
    this.live = new LiveControls(cfg.controls);
    // used by src/testing only (testHooks(gate).resetState): the configured token again, rotations and auth failures forgotten
    registerTestHooks(this, {
      kind: 'ops',
      reset: () => {
        this.tokenDigest = token === null ? null : digest(token);
        this.lastRotationMs = 0;
        this.failures.clear();
      },
    });
  }

  get tokenConfigured(): boolean {
    return this.tokenDigest !== null;
  }

  /**
   * Authorises an ops call: allowlisted address, a configured token, the header present and equal (in
   * constant time, on SHA-256 digests). Failures are counted and rate-limited per address (D-38).
   * Returns null when authorised.
   */
  authorize(header: string | undefined, remote: string): Failure | null {
    const now = Date.now();
    const recent = (this.failures.get(remote) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= AUTH_FAILS_PER_MINUTE) {
      this.failures.set(remote, recent);
      this.authFailures++;
      return fail(429, 'auth_rate_limited', 'too many failed ops authentications from this address; wait a minute');
    }
    let f: Failure | null = null;
    if (this.allowlist.length > 0 && !this.allowlist.includes(remote)) f = fail(403, 'forbidden', 'this address is not in security.allowlist');
    else if (this.tokenDigest === null) f = fail(401, 'ops_token_not_configured', 'OPS token not configured');
    else if (header === undefined) f = fail(401, 'missing_token', 'Missing X-OPS-TOKEN');
    else if (!timingSafeEqual(digest(header), this.tokenDigest)) f = fail(403, 'forbidden', 'Forbidden');
    if (f !== null) {
      recent.push(now);
      this.failures.set(remote, recent);
      if (this.failures.size > 10_000) this.failures.clear();
      this.authFailures++;
      process.stderr.write(`ops auth failure from ${remote}: ${f.status} ${f.body.error.code}\n`);
    }
    return f;
  }

  cooloff(secText: string): OpsReply {
    if (!/^[+-]?\d{1,12}$/.test(secText)) return err(fail(422, 'invalid_request', 'sec must be an integer', [{ path: 'sec', message: 'must be an integer' }]));
    const sec = Number(secText);
    if (sec > MAX_COOLOFF_SEC) return err(fail(400, 'cooloff_too_long', `sec must be at most ${MAX_COOLOFF_SEC}`));
    const until = this.locked((now) => opsCooloff(this.state, sec, now));
    const untilMs = Math.round(until * 1000);
    this.event({ code: 'AURORA.COOL_OFF', details: { until, until_ms: untilMs } });
    return ok({ status: 'ok', until, until_ms: untilMs });
  }

  reset(): OpsReply {
    let resumed = false;
    const snap = this.locked((now) => {
      opsReset(this.state, this.cfg.compat.resetClearsSamples);
      // desk controls: a post-trade fill that could not be recorded blocks new exposure until ops
      // acknowledge it (positions may be understated: docs/controls.md controls_capacity_exhausted)
      this.state.controls.clearLostFills();
      if (this.cfg.compat.resetClearsGovernance) resumed = governanceResume(this.state, now);
      return guardSnapshot(this.state, this.cfg.health);
    });
    if (resumed) this.event({ code: 'AURORA.RESUME', details: { cause: 'ops_reset' } });
    this.event({ code: 'OPS.RESET', details: { state: snap } });
    return ok({ status: 'ok', state: snap });
  }

  arm(mode: string): OpsReply {
    const m = mode.toLowerCase();
    if (m !== 'arm' && m !== 'disarm') return err(fail(400, 'invalid_mode', "mode must be 'arm' or 'disarm'"));
    const snap = this.locked(() => {
      setArmed(this.state, m === 'arm');
      return guardSnapshot(this.state, this.cfg.health);
    });
    this.event({ code: 'AURORA.ARM_STATE', details: { state: snap } });
    return ok({ status: 'ok', state: snap });
  }

  riskSnapshot(): OpsReply {
    return ok({ status: 'ok', risk: this.riskJson() });
  }

  riskSet(body: unknown): OpsReply {
    if (!riskSet.check(body)) return err(invalidRequest(riskSet.errors(body)));
    this.locked(() => {
      const r = this.state.risk;
      if (body.dd_day_pct != null) r.ddDayPct = body.dd_day_pct;
      if (body.max_concurrent != null) r.maxConcurrent = body.max_concurrent;
      if (body.size_scale != null) r.sizeScale = Math.min(1, Math.max(0, body.size_scale));
      this.state.setRisk(r);
    });
    const risk = this.riskJson();
    this.event({ code: 'RISK.UPDATE', details: { risk } });
    return ok({ status: 'ok', risk });
  }

  rotateToken(body: unknown): OpsReply {
    if (!rotate.check(body)) return err(invalidRequest(rotate.errors(body)));
    const token = body.new_token.trim();
    if (token === '') return err(fail(400, 'invalid_token', 'new_token must be non-empty'));
    if (token.length < 24) return err(fail(400, 'invalid_token', 'new_token too short (min 24)'));
    const problem = tokenProblem(token);
    if (problem !== null) return err(fail(400, 'invalid_token', `new_token ${problem}`));
    const now = Date.now();
    if (now - this.lastRotationMs < ROTATION_COOLDOWN_MS) return err(fail(429, 'rotation_cooldown', 'rotation cooldown active'));
    this.tokenDigest = digest(token);
    this.lastRotationMs = now;
    this.rotations++;
    this.event({ code: 'OPS.TOKEN_ROTATE', details: { ts_ms: now, version: this.version, token_mask: maskToken(token) } });
    return ok({ status: 'ok' });
  }

  /** GET /ops/limits (controls.md §5): effective limits, trading state, per account positions, reservations, buckets, utilisation. */
  limits(): OpsReply {
    const st = this.state.controls;
    const r = this.locked((now) => {
      const cfg = this.live.current(st);
      const expired = this.expireLocked(st, cfg, now);
      return { ...expired, snap: controlsSnapshot(st, cfg, now * 1000) };
    });
    this.eventsAt(r.first, r.events);
    return ok({ status: 'ok', ...r.snap });
  }

  /**
   * POST /ops/limits (controls.md §5): a partial controls object merged into the live controls
   * (mergeLimits: JSON merge patch, validated like start-up configuration, all or nothing), published
   * into shared state under the lock so every thread decides with it from its next request. One
   * LIMIT.UPDATE {key, old, new, token_mask} per effective value that moved, timestamped in the same
   * critical section. A refused body changes nothing and journals nothing (422 naming the field).
   */
  setLimits(body: unknown, token: string | undefined): OpsReply {
    const st = this.state.controls;
    // the merge (validation, build) runs outside the lock; only the main thread publishes, so the
    // generation check below only matters if something else re-initialised the state meanwhile
    for (let attempt = 0; ; attempt++) {
      const [gen, current] = this.locked(() => [st.configGeneration, this.live.current(st)] as const);
      const r = mergeLimits(current, body);
      if (!r.ok) return err(invalidRequest(r.errors));
      let tooLarge: string | null = null;
      const done = this.locked((now) => {
        if (st.configGeneration !== gen && attempt < 3) return null;
        try {
          publishControls(st, r.config);
        } catch (e) {
          tooLarge = (e as Error).message;
          return null;
        }
        return { first: r.changes.length > 0 ? this.state.reserveTsUs(now, r.changes.length) : 0, trading: tradingStateName(st.tradingState) };
      });
      if (tooLarge !== null) return err(fail(422, 'invalid_request', 'the controls configuration does not fit the shared state', [{ path: '(body)', message: tooLarge }]));
      if (done === null) continue;
      const mask = token === undefined ? null : maskToken(token);
      this.eventsAt(
        done.first,
        r.changes.map((c) => ({ code: 'LIMIT.UPDATE', details: { key: c.key, old: c.old, new: c.new, token_mask: mask } })),
      );
      return ok({ status: 'ok', trading_state: done.trading, limits: effectiveLimits(r.config), changes: r.changes });
    }
  }

  /** POST /ops/trading_state (controls.md §5): journals TRADING_STATE {from, to, source: "ops"} when it changes. */
  tradingState(body: unknown): OpsReply {
    if (!tradingStateValidator.check(body)) return err(invalidRequest(tradingStateValidator.errors(body)));
    const to = body.state;
    const st = this.state.controls;
    const r = this.locked((now) => {
      const from = tradingStateName(st.tradingState);
      const ev = setTradingState(st, to, 'ops');
      return { from, ev, first: ev === null ? 0 : this.state.reserveTsUs(now, 1) };
    });
    if (r.ev !== null) this.eventsAt(r.first, [r.ev]);
    return ok({ status: 'ok', state: to, trading_state: to, from: r.from, changed: r.ev !== null });
  }

  /** The desk-control gauges for /metrics (one locked read per scrape). */
  controlsGauges(): ControlsGauges {
    const st = this.state.controls;
    const r = this.locked((now) => {
      const cfg = this.live.current(st);
      const expired = this.expireLocked(st, cfg, now);
      return { ...expired, gauges: readControlsGauges(st, cfg) };
    });
    this.eventsAt(r.first, r.events);
    return r.gauges;
  }

  /**
   * Ends the reservations whose TTL passed (decisions and post-trade records do it too, but a quiet gate
   * makes none): GET /ops/limits and the gauges then show what a decision would see. Their
   * RESERVATION.EXPIRED events get timestamps in this critical section. Under the lock.
   */
  private expireLocked(st: ControlsState, cfg: ControlsConfig, nowSec: number): { events: GateEvent[]; first: number } {
    if (st.reservations.live === 0) return { events: [], first: 0 };
    const nowMs = nowSec * 1000;
    const expired = st.reservations.expireDue(nowMs, cfg.reservationTtlMs);
    if (expired === null) return { events: [], first: 0 };
    const events = expired.map((x) => expiredEvent(x, nowMs));
    return { events, first: this.state.reserveTsUs(nowSec, events.length) };
  }

  guardState(): GuardSnapshot & { governance_halt: boolean } {
    const now = this.clock.wallSec();
    return { ...guardSnapshot(this.state, this.cfg.health), governance_halt: governanceHalted(this.state, now) };
  }

  /** Any halt in force: Governance kill switch or HealthGuard (readiness, service.md 5.2). */
  halted(): boolean {
    const now = this.clock.wallSec();
    return governanceHalted(this.state, now) || this.state.ctl[Ctl.Halted] !== 0;
  }

  /** Journals an event from the main thread (start-up, ops) and hands it to the writer at once. */
  event(ev: GateEvent): void {
    const us = this.locked((now) => this.state.reserveTsUs(now, 1));
    this.journal.add('events', eventLine(tsNsText(us), this.runId, ev));
    this.counters.event(ev.code);
    this.flush();
  }

  /** Journals events whose timestamps were reserved (from `first` on) in the critical section of their change. */
  private eventsAt(first: number, evs: GateEvent[]): void {
    if (evs.length === 0) return;
    for (let i = 0; i < evs.length; i++) {
      this.journal.add('events', eventLine(tsNsText(first + i), this.runId, evs[i]));
      this.counters.event(evs[i].code);
    }
    this.flush();
  }

  private riskJson() {
    const r = this.state.risk;
    return { dd_day_pct: r.ddDayPct, max_concurrent: r.maxConcurrent, size_scale: r.sizeScale };
  }

  private locked<R>(fn: (nowSec: number) => R): R {
    this.lock.acquire();
    try {
      return fn(this.state.tick(this.clock.wallSec()));
    } finally {
      this.lock.release();
    }
  }
}

const ok = (body: unknown): OpsReply => ({ status: 200, body });
const err = (f: Failure): OpsReply => ({ status: f.status, body: f.body });
