// A dispatcher in its own process, over a file-backed store, for the kill -9 test
// (dispatcher-durability.test.ts). Plain JS on the built modules: node 20 cannot run the
// TypeScript sources. Usage:
//   node dispatcher-child.mjs DIST STATE_DIR WEBHOOK_URL PAGERDUTY_URL enqueue|deliver
// `enqueue` records 5 firing alerts (2 of which then resolve) through AlertStore with the
// outbox in the same transaction, then keeps delivering; `deliver` only delivers.
// Prints one JSON line per event on stdout; runs until killed.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [dist, stateDir, webhookUrl, pagerdutyUrl, phase] = process.argv.slice(2);
const load = (p) => import(pathToFileURL(path.join(dist, p)).href);

const { openStore } = await load('src/store/db.js');
const { AlertStore } = await load('src/store/alerts.js');
const { systemClock } = await load('src/clock.js');
const { buildChannels } = await load('src/notify/channels.js');
const { Dispatcher } = await load('src/notify/dispatcher.js');
const { Outbox } = await load('src/notify/outbox.js');
const { Router } = await load('src/notify/router.js');

const say = (event, data = {}) => process.stdout.write(`${JSON.stringify({ event, ...data })}\n`);

const db = openStore(stateDir);
const channels = buildChannels({
  webhook: { url: webhookUrl, timeout: '400ms' },
  pagerduty: { routing_key: 'R0UTINGKEY0000000000000000000001', url: pagerdutyUrl, timeout: '400ms' },
});
const dispatcher = new Dispatcher({
  db,
  channels,
  clock: systemClock,
  baseBackoffMs: 50,
  maxBackoffMs: 200,
  log: (level, msg, data) => say('log', { level, msg, channel: data?.channel }),
});
const outbox = new Outbox(db, { router: new Router([], [...channels.keys()]), channels, onEnqueue: () => dispatcher.kick() });
dispatcher.start();

if (phase === 'enqueue') {
  const store = new AlertStore(db);
  const tracked = new Map();
  const transition = (stage, kind, at) => ({
    at,
    rule: 'high_error_rate',
    state: kind,
    severity: 'critical',
    labels: { stage },
    summary: `Error rate high in ${stage}`,
    values: { error_rate: 0.4 },
    notify: kind,
    alertKey: `high_error_rate{stage="${stage}"}`,
  });
  const stages = ['upload', 'analysis', 'merging', 'compression', 'storage_upload'];
  for (const stage of stages) {
    const at = systemClock.now();
    const t = transition(stage, 'firing', at);
    tracked.set(t.alertKey, { state: 'firing', activeSince: at, firingSince: at, lastHeldAt: at, lastNotifiedAt: at, keepFiringSince: null, resolvedAt: null, rule: t.rule, labels: t.labels });
    store.record({ states: new Map(tracked), transitions: [t] }, (rt, rule) => void outbox.enqueue(rt, rule, at));
    await new Promise((r) => setTimeout(r, 30));
  }
  for (const stage of stages.slice(0, 2)) {
    const at = systemClock.now();
    const t = transition(stage, 'resolved', at);
    tracked.delete(t.alertKey);
    store.record({ states: new Map(tracked), transitions: [t] }, (rt, rule) => void outbox.enqueue(rt, rule, at));
  }
  say('enqueued');
}

setInterval(() => say('counts', dispatcher.counts()), 100);
