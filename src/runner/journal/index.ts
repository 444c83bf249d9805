/** The runner's own journal files under `<session>/runner/`. */
export { JsonlFile } from './jsonl-file.ts';
export { RunnerJournal, STREAMS, type JournalOptions, type StreamName } from './runner-journal.ts';
