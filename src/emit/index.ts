export { createEmitter, FILES, MEDIA_LOGGER } from './emitter.js';
export type { Emitter, EmitterOptions, Context, Level, StageStarted, StageCompleted, ProcessingError, SessionCompleted, SessionFailed } from './emitter.js';
export { RotatingFile, type RotatingFileOptions } from './rotating-file.js';
