/**
 * Parse workers: the per-line work of ingest on another core. The pipeline offers each
 * chunk to a worker and parses it itself when the workers are busy, so both cores stay
 * at work and each does whatever is left. Results are picked up synchronously
 * (receiveMessageOnPort) between chunks, without waiting for the event loop.
 */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { ChunkDone, ChunkJob, ChunkParserOptions } from './chunk.js';
import { keepHeapSmall, nextIsolatesHeap } from './heap.js';

const WORKER_URL = new URL('./parse-worker.js', import.meta.url);
const MAX_LOST = 3;
const WORKER_HEAP = { semiSpaceMb: 2, initialOldSpaceMb: 8 };
const DEFAULT_HEAP = { semiSpaceMb: 0, initialOldSpaceMb: 0 };

/**
 * One worker when there are two cores or more and the worker script exists as
 * JavaScript (the built agent; tests running the TypeScript sources parse inline).
 * One, not two: the calling thread parses too, so two cores are busy; a third thread
 * would only contend for them, and each worker costs ~15-20 MB of memory.
 */
export function defaultParseWorkers(): number {
  if (!import.meta.url.endsWith('.js') || !fs.existsSync(fileURLToPath(WORKER_URL))) return 0;
  return os.availableParallelism() >= 2 ? 1 : 0;
}

export type ChunkCallback = (d: ChunkDone | null, error?: Error) => void;

type Reply = ChunkDone | { seq: number; error: string };

interface Slot {
  worker: Worker;
  port: MessagePort;
  pending: Map<number, ChunkCallback>;
  /** The worker said it is up (its first message). */
  ready: boolean;
}

export class ParsePool {
  private readonly slots: (Slot | null)[];
  private wake: (() => void) | null = null;
  private closed = false;
  private starting: Promise<void>[] = [];
  /** Workers lost so far; past a few, no more are started (the calling thread parses alone). */
  private lost = 0;

  constructor(
    readonly size: number,
    private readonly opts: ChunkParserOptions,
    /** The longest line a chunk may hold. */
    private readonly maxLineBytes = 1 << 20,
    /** Jobs queued per worker at most: one being parsed, the next ones waiting. */
    private readonly depth = 2,
  ) {
    this.slots = new Array<Slot | null>(size).fill(null);
  }

  /**
   * Starts the workers that are not running and resolves when they are ready. Creating
   * a worker's isolate resets a heap flag, applied again once it runs (see heap.ts);
   * the heavy work waits for that.
   */
  async ready(): Promise<void> {
    if (!this.closed && this.lost < MAX_LOST) for (let i = 0; i < this.slots.length; i++) if (this.slots[i] === null) this.spawn(i);
    if (this.starting.length === 0) return;
    const s = this.starting;
    this.starting = [];
    await Promise.all(s);
    // Back to this thread's settings: creating an isolate reset the growth factor.
    nextIsolatesHeap(DEFAULT_HEAP);
    keepHeapSmall(true);
  }

  /** Whether a worker has fewer than `maxPending` jobs. */
  room(maxPending = this.depth): boolean {
    return this.pick(maxPending) !== null;
  }

  /** Gives `job` (its buffers are transferred) to a worker with fewer than `maxPending` jobs; false when none has. */
  offer(job: ChunkJob, done: ChunkCallback, maxPending = this.depth): boolean {
    const slot = this.pick(maxPending);
    if (slot === null) return false;
    slot.pending.set(job.seq, done);
    if (slot.pending.size === 1) this.ref(slot, true);
    slot.worker.postMessage(job, [job.bytes.buffer as ArrayBuffer, job.spans.buffer as ArrayBuffer]);
    return true;
  }

  private pick(maxPending: number): Slot | null {
    if (this.closed) return null;
    let slot: Slot | null = null;
    for (const s of this.slots) {
      if (s !== null && s.ready && s.pending.size < maxPending && (slot === null || s.pending.size < slot.pending.size)) slot = s;
    }
    return slot;
  }

  /** Delivers the results that have arrived, now. */
  poll(): void {
    for (const slot of this.slots) {
      if (slot === null || !slot.ready || slot.pending.size === 0) continue;
      for (let m = receiveMessageOnPort(slot.port); m !== undefined; m = receiveMessageOnPort(slot.port)) this.deliver(slot, m.message as Reply);
    }
  }

  /** Resolves when a result or a failure arrives. */
  wait(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(
      this.slots.map(async (s, i) => {
        if (s === null) return;
        this.slots[i] = null;
        this.fail(s, new Error('parse pool closed'));
        s.port.close();
        await s.worker.terminate();
      }),
    );
  }

  private spawn(i: number): Slot {
    const { port1, port2 } = new MessageChannel();
    nextIsolatesHeap(WORKER_HEAP);
    const worker = new Worker(WORKER_URL, {
      workerData: { options: this.opts, port: port2 },
      transferList: [port2],
      // The young generation stays small (see heap.ts); the old one holds one chunk
      // at a time: room for the longest line parsed (its string, and objects several
      // times its size), no more.
      resourceLimits: { maxOldGenerationSizeMb: Math.max(64, Math.ceil((16 * this.maxLineBytes) / 2 ** 20)) },
    });
    worker.unref();
    // The worker's isolate exists: its creation reset the flags this thread relies on.
    worker.once('online', () => {
      nextIsolatesHeap(DEFAULT_HEAP);
      keepHeapSmall(true);
    });
    const slot: Slot = { worker, port: port1, pending: new Map(), ready: false };
    this.starting.push(
      new Promise<void>((resolve) => {
        port1.on('message', (m: Reply | { ready: true }) => {
          if (slot.ready) this.deliver(slot, m as Reply);
          else {
            slot.ready = true;
            port1.unref();
            resolve();
          }
        });
        // A worker that fails to start: nothing is offered to it, the calling thread parses.
        worker.once('exit', () => resolve());
      }),
    );
    port1.ref(); // until it is ready: the caller awaits that
    const gone = (e: Error) => {
      if (this.slots[i] === slot) {
        this.slots[i] = null;
        if (!this.closed) this.lost++;
      }
      this.fail(slot, e);
    };
    worker.on('error', gone);
    worker.on('exit', (code) => gone(new Error(`parse worker exited (code ${code})`)));
    this.slots[i] = slot;
    return slot;
  }

  private deliver(slot: Slot, m: Reply): void {
    const cb = slot.pending.get(m.seq);
    if (cb === undefined) return;
    slot.pending.delete(m.seq);
    if (slot.pending.size === 0) this.ref(slot, false);
    if ('error' in m) cb(null, new Error(`parse worker: ${m.error}`));
    else cb(m);
    this.wakeUp();
  }

  /** Keep the process alive while a worker owes a result, not longer. */
  private ref(slot: Slot, on: boolean): void {
    if (on) {
      slot.worker.ref();
      slot.port.ref();
    } else {
      slot.worker.unref();
      slot.port.unref();
    }
  }

  private fail(slot: Slot, e: Error): void {
    const all = [...slot.pending.values()];
    slot.pending.clear();
    for (const cb of all) cb(null, e);
    this.wakeUp();
  }

  private wakeUp(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
