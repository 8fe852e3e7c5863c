/**
 * The ingest as built. Parse workers run the built JavaScript (a worker cannot load the
 * TypeScript sources), so tests that need a worker import the ingest from dist/, as the
 * e2e tests run the built agent: `npm run build` first (npm test does).
 */
import fs from 'node:fs';
import path from 'node:path';
import { ManualClock } from '../../src/clock.js';
import { loadConfig } from '../../src/config/load.js';
import { buildIngest } from '../../src/ingest/build.js';
import { BatchWriter } from '../../src/store/batch.js';
import { openStore } from '../../src/store/db.js';

const DIST = path.resolve(import.meta.dirname, '../../dist/src');

export type IngestModules = {
  buildIngest: typeof buildIngest;
  loadConfig: typeof loadConfig;
  openStore: typeof openStore;
  ManualClock: typeof ManualClock;
  BatchWriter: typeof BatchWriter;
};

/** The same pieces from the sources, for tests that parse on the calling thread. */
export const SOURCE_MODULES: IngestModules = { buildIngest, loadConfig, openStore, ManualClock, BatchWriter };

export function requireBuild(): void {
  if (!fs.existsSync(path.join(DIST, 'ingest/parse-worker.js'))) throw new Error(`${DIST}/ingest/parse-worker.js is missing: run "npm run build" first (npm test does)`);
}

export async function loadDist(): Promise<IngestModules> {
  requireBuild();
  const imp = (p: string) => import(path.join(DIST, p));
  return {
    buildIngest: (await imp('ingest/build.js')).buildIngest,
    loadConfig: (await imp('config/load.js')).loadConfig,
    openStore: (await imp('store/db.js')).openStore,
    ManualClock: (await imp('clock.js')).ManualClock,
    BatchWriter: (await imp('store/batch.js')).BatchWriter,
  };
}
