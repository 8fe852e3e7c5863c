/** A parse worker: chunks in, ChunkParts out on the port it was given (see chunk.ts, parse-pool.ts). */
// First: creating this thread's isolate reset a heap flag (see heap.ts).
import { keepHeapSmall } from './heap.js';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { ChunkParser, transferablesOf, type ChunkJob, type ChunkParserOptions } from './chunk.js';

const { options, port } = workerData as { options: ChunkParserOptions; port: MessagePort };
const parser = new ChunkParser(options);
keepHeapSmall(true);
port.postMessage({ ready: true });

parentPort!.on('message', (job: ChunkJob) => {
  let done;
  try {
    done = parser.parse(job);
  } catch (e) {
    // A bug, not bad input (parseLine never throws): the pipeline fails the batch and rewinds.
    port.postMessage({ seq: job.seq, error: (e as Error).stack ?? String(e) });
    return;
  }
  port.postMessage(done, transferablesOf(done));
});
