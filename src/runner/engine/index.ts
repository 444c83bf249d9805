/** The runner's engine: trading loop, order state machine, exits, posttrade queue, replay driver, run. */
export { Engine, type EngineDeps } from './engine.ts';
export { OrderTracker, canMove, isTerminal, type OrderState, type TrackedOrder } from './orders.ts';
export { PosttradeQueue, type PosttradeQueueOptions } from './posttrade-queue.ts';
export { ReplayDriver, countLines } from './replay.ts';
export { runReplay, utcStamp, type RunOptions, type RunResult } from './run.ts';
export { localSkip, trapConflict } from './filters.ts';
