export { Tailer, DEFAULT_MAX_LINE_BYTES, DEFAULT_READ_CHUNK_BYTES, DEFAULT_ORPHAN_GRACE_MS } from './tailer.js';
export { logicalName, parseRotation } from './discover.js';
export { startWatcher, isInotifyExhausted, type ChangeReason, type WatchHandle, type WatchMode, type WatchOptions } from './watch.js';
export type { Checkpoint, FileStatus, InputSpec, LineSink, LogLevel, ReadResult, StartAt, TailerOptions, TailLog } from './types.js';
