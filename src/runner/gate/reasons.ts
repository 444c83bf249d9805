/** The deny-reason family lives with the gate client (it counts by it too); the runner reuses it. */
export { denyFamily } from '../../client/reasons.ts';
