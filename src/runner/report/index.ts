/** The run summary (runner.md §4.5), its table and the replay progress line. */
export { SummaryCollector, type RunSummary } from './summary.ts';
export { formatSummaryTable } from './table.ts';
export { formatProgress, type ProgressState } from './progress.ts';
export { nearestRank, summarizeRtts, type RttSummary } from './percentiles.ts';
