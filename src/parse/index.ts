/** The parse stage: a line of text → LogEvent (or a rejection), plus redaction for storage. */
export { parseLine } from './line.js';
export { normalize, detectFormat } from './normalize.js';
export { parseTimestamp } from './timestamp.js';
export { normalizeLevel } from './level.js';
export { redactForStorage, redactText, storableLine } from './redact.js';
export { sampleText } from './sample.js';
export type { LogEvent, ParseResult, RejectedLine, RejectReason, FormatName } from './event.js';
export { isRejected, isOperation, operationFailed, LEVELS } from './event.js';
