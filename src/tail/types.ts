/**
 * The tailer's contract with the ingest loop. The tailer never writes to a database:
 * it hands out checkpoints with every read and accepts them back at start, so the
 * store can persist them in the same transaction as the data they cover.
 */
import type { LogFn } from '../log.js';

export type StartAt = 'beginning' | 'end';

export interface InputSpec {
  /** A path or glob (`*`, `?`, `[..]`, `{a,b}`, `**`). Rotated siblings of every match are followed. */
  path: string;
  /**
   * Where a file with no checkpoint starts. `end` applies only to files already present at
   * the tailer's first scan, in a family (a live name and its rotations) for which no
   * checkpoint was given; files that appear later, or while vigil was stopped next to a
   * checkpointed family, are always read from the beginning.
   */
  start_at?: StartAt;
}

export interface Checkpoint {
  /**
   * Stream key. Normally the fingerprint of the file's first line; when two live files share
   * a first line it is `FINGERPRINT@dev:ino` (see fingerprint.ts).
   */
  fingerprint: string;
  path: string;
  dev: number;
  ino: number;
  /** The next byte to read; every byte before it was followed by a newline or skipped. */
  offset: number;
  /** True while inside an over-long line: bytes up to the next newline are discarded. */
  skipping: boolean;
  /** Largest size seen for the bound inode: a smaller size at restart means it was truncated. */
  size_at_checkpoint?: number;
  /**
   * Hash of the TAIL_BYTES bytes before `offset` (fingerprint.ts tailHash). Tells the file's
   * own content from another file that begins with the same line, e.g. when finishing a stream
   * from a compressed rotation. Absent in checkpoints written before it existed.
   */
  tail?: string;
}

export interface LineSink {
  /**
   * Optional: called before the lines of each read with the file they come from and the file
   * offset of buf[0], so a line's byte position in the file is `offset + start`.
   */
  begin?(path: string, offset: number): void;
  /** One complete line: bytes [start, end) of buf, without '\n' or a trailing '\r'. Consume synchronously. */
  line(buf: Buffer, start: number, end: number): void;
  /** A line longer than maxLineBytes began; reported once per line, `bytes` is what was seen so far. */
  overlong(path: string, bytes: number): void;
}

export interface ReadResult {
  streamId: string;
  path: string;
  /** Index in TailerOptions.inputs of the input whose glob found the file. */
  input: number;
  /** What to commit together with the lines just delivered. */
  checkpoint: Checkpoint;
  lines: number;
  bytes: number;
  /** The read reached the end of what the file held at that moment. */
  atEof: boolean;
}

export interface FileStatus {
  streamId: string;
  path: string;
  /** live: the file under its input name; rotated: a sibling (.1, -DATE); vanished: deleted or renamed away, draining. */
  state: 'live' | 'rotated' | 'vanished';
  size: number;
  offset: number;
  lagBytes: number;
  lastReadAt: number | null;
  skipping: boolean;
  /** Index in TailerOptions.inputs of the input whose glob found the file (-1: not known). */
  input: number;
}

export type TailLog = LogFn;
export type LogLevel = Parameters<LogFn>[0];

export interface TailerOptions {
  inputs: InputSpec[];
  /** Longest line delivered (bytes, '\r' included, '\n' excluded). Default 1 MiB. */
  maxLineBytes?: number;
  /** Size of the one reused read buffer. Default 1 MiB, raised to maxLineBytes + 1. */
  readChunkBytes?: number;
  /** Checkpoints committed by the previous run. */
  checkpoints?: Checkpoint[];
  /**
   * How long a deleted (or renamed-away) file is kept open after its last growth once drained,
   * because a writer may still hold it. Default 5000 ms.
   */
  orphanGraceMs?: number;
  /**
   * How long a stream whose file is nowhere in view (renamed out of the globs, or a
   * checkpoint whose file was not found after a restart) is remembered before its
   * checkpoint is dropped. Until then the file is read on from its offset if it shows up
   * again, never from 0. Default 1 hour.
   */
  forgetAfterMs?: number;
  log?: TailLog;
  now?: () => number;
}
