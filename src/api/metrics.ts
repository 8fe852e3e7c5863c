import { Counter, Gauge, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { Config } from '../config/load.js';
import { bucketValue } from '../store/histogram.js';
import type { StageAllTime, StoreReads } from '../store/reads.js';
import type { RuntimeView } from './types.js';

/**
 * GET /metrics: a private prom-client Registry whose collect() callbacks read the store
 * at scrape time. One scrape reads the store once (a snapshot shared by every metric).
 *
 * Counters are all-time sums: what retention folded away (meta) plus every stored hour
 * window, so they only go up even though windows are pruned. Label sets are bounded:
 * files by file_stats (one row per logical file), stages and levels by the ingest
 * cardinality caps and, here, at most MAX_SERIES values per label (the rest as OTHER).
 */
export const STAGE_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600] as const;
const MAX_SERIES = 50;
const OTHER = 'OTHER';

interface Snapshot {
  files: { file: string; lines: number }[];
  levels: Map<string, number>;
  parseErrors: { file: string; reason: string; n: number }[];
  stages: Map<string, StageAllTime>;
  active: number;
  stuck: number;
  firing: { rule: string; severity: string; n: number }[];
  outbox: { channel: string; pending: number; failed: number }[];
  system: { metric: 'cpu' | 'memory' | 'disk'; mount: string; value: number }[];
  dbBytes: number;
}

export interface MetricsDeps {
  reads: StoreReads;
  runtime: RuntimeView;
  clock: Clock;
  config: Config;
  stuckSessionMs: number;
  sampleMaxAgeMs: number;
}

export class ApiMetrics {
  readonly registry = new Registry();
  private snap: Snapshot | null = null;

  constructor(private readonly d: MetricsDeps) {
    const r = this.registry;
    const s = () => this.snapshot();
    // A scrape forgets the series of the previous one and fills them again from its snapshot.
    const refill = <M extends { reset(): void }>(fill: (m: M, snap: Snapshot) => void) =>
      function (this: M) {
        this.reset();
        fill(this, s());
      };
    const counter = (name: string, help: string, labelNames: string[], fill: (c: Counter<string>, snap: Snapshot) => void) =>
      new Counter({ name, help, labelNames, registers: [r], collect: refill(fill) });
    const gauge = (name: string, help: string, labelNames: string[], fill: (g: Gauge<string>, snap: Snapshot) => void) =>
      new Gauge({ name, help, labelNames, registers: [r], collect: refill(fill) });

    counter('vigil_lines_ingested_total', 'Log lines accepted, per logical file (rotations folded in).', ['file'], (c, x) => {
      for (const f of x.files) c.inc({ file: f.file }, f.lines);
    });
    counter('vigil_log_lines_total', 'Log lines accepted, per level (all files).', ['level'], (c, x) => {
      for (const [level, n] of cappedLevels(x.levels)) c.inc({ level }, n);
    });
    counter('vigil_parse_errors_total', 'Lines rejected (not JSON, too long, …), per file and reason.', ['file', 'reason'], (c, x) => {
      for (const p of x.parseErrors) c.inc({ file: p.file, reason: p.reason }, p.n);
    });
    counter('vigil_operations_total', 'Operations (completed stages), all time, per stage.', ['stage'], (c, x) => {
      for (const [stage, t] of x.stages) c.inc({ stage }, t.ops);
    });
    counter('vigil_operation_failures_total', 'Failed operations, all time, per stage.', ['stage'], (c, x) => {
      for (const [stage, t] of x.stages) c.inc({ stage }, t.failed);
    });
    r.registerMetric(new StageDurationHistogram(s) as never);
    gauge('vigil_active_sessions', 'Sessions active now.', [], (g, x) => g.set(x.active));
    gauge('vigil_stuck_sessions', `Sessions active for more than ${Math.round(d.stuckSessionMs / 60_000)} minutes.`, [], (g, x) => g.set(x.stuck));
    gauge('vigil_alerts_firing', 'Alerts firing now, per rule and severity.', ['rule', 'severity'], (g, x) => {
      for (const a of x.firing) g.set({ rule: a.rule, severity: a.severity }, a.n);
    });
    gauge('vigil_outbox_pending', 'Notifications waiting for delivery, per channel.', ['channel'], (g, x) => {
      for (const o of x.outbox) g.set({ channel: o.channel }, o.pending);
    });
    gauge('vigil_outbox_failed', 'Notifications that failed permanently and are still kept, per channel.', ['channel'], (g, x) => {
      for (const o of x.outbox) g.set({ channel: o.channel }, o.failed);
    });
    r.registerMetric(
      new OptionalGauge('vigil_ingest_lag_seconds', 'How far ingest is behind the files; absent before the first read.', () => {
        const lag = d.runtime.ingestLagMs();
        return lag === null ? null : lag / 1000;
      }) as never,
    );
    r.registerMetric(
      new OptionalGauge('vigil_system_cpu_percent', 'Latest CPU usage sample, percent; absent when there is no recent sample.', () =>
        pick(s().system, 'cpu'),
      ) as never,
    );
    r.registerMetric(
      new OptionalGauge('vigil_system_memory_percent', 'Latest memory usage sample, percent; absent when there is no recent sample.', () =>
        pick(s().system, 'memory'),
      ) as never,
    );
    gauge('vigil_system_disk_percent', 'Latest disk usage sample, percent, per configured mount.', ['mount'], (g, x) => {
      for (const v of x.system) if (v.metric === 'disk') g.set({ mount: v.mount }, v.value);
    });
    gauge('vigil_store_bytes', 'Size of the SQLite store (database + WAL).', [], (g, x) => g.set(x.dbBytes));
    new Gauge({
      name: 'vigil_uptime_seconds',
      help: 'Seconds since the agent started.',
      registers: [r],
      collect() {
        this.set((d.clock.now() - d.runtime.startedAt) / 1000);
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text; the store is read once for the whole scrape. */
  async scrape(): Promise<string> {
    this.snap = null;
    try {
      return await this.registry.metrics();
    } finally {
      this.snap = null;
    }
  }

  private snapshot(): Snapshot {
    if (this.snap !== null) return this.snap;
    const { reads, clock, config } = this.d;
    const now = clock.now();
    const system: Snapshot['system'] = [];
    const fresh = (m: 'cpu' | 'memory' | 'disk', key: string) => {
      const v = reads.latestSample(m, key, now);
      if (v !== null && now - v.ts <= this.d.sampleMaxAgeMs) system.push({ metric: m, mount: key, value: v.value });
    };
    fresh('cpu', '');
    fresh('memory', '');
    for (const m of config.system.disks) fresh('disk', m);
    const stages = new Map<string, StageAllTime>();
    for (const [stage, t] of reads.stagesAllTime()) if (stage !== '') stages.set(stage, t);
    this.snap = {
      files: reads.fileStats(),
      levels: reads.levelsAllTime(),
      parseErrors: reads.parseErrorsAllTime(),
      stages: cappedStages(stages),
      active: reads.activeCount(now),
      stuck: reads.stuckCount(now, this.d.stuckSessionMs),
      firing: reads.firingAlertCounts(),
      outbox: reads.outbox().byChannel,
      system,
      dbBytes: reads.dbSize().bytes,
    };
    return this.snap;
  }
}

function pick(system: Snapshot['system'], metric: 'cpu' | 'memory'): number | null {
  return system.find((v) => v.metric === metric)?.value ?? null;
}

/** A gauge without labels that can be absent (prom-client's would read 0: a false "0 % CPU"). */
class OptionalGauge {
  readonly type = 'gauge';
  readonly aggregator = 'sum';
  readonly labelNames: string[] = [];
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => number | null,
  ) {}
  async get() {
    const v = this.read();
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: v === null ? [] : [{ labels: {}, value: v }] };
  }
  reset(): void {
    /* stateless */
  }
}

/** At most MAX_SERIES values of a label: the heaviest MAX_SERIES - 1 as they are, the rest folded into OTHER. */
function capped<V>(m: Map<string, V>, weight: (v: V) => number, fold: (into: V | undefined, v: V) => V): Map<string, V> {
  if (m.size <= MAX_SERIES) return m;
  const sorted = [...m].sort((a, b) => weight(b[1]) - weight(a[1]));
  const out = new Map(sorted.slice(0, MAX_SERIES - 1));
  for (const [, v] of sorted.slice(MAX_SERIES - 1)) out.set(OTHER, fold(out.get(OTHER), v));
  return out;
}

const cappedLevels = (m: Map<string, number>) => capped(m, (n) => n, (into, n) => (into ?? 0) + n);

/** OTHER starts as the first stage folded away, histogram included, and adds the rest in place (a scrape's snapshot is thrown away after it). */
const cappedStages = (m: Map<string, StageAllTime>) =>
  capped(m, (t) => t.ops, (into, t) => {
    if (into === undefined) return { ...t };
    for (const [k, v] of t.hist.counts) into.hist.counts.set(k, (into.hist.counts.get(k) ?? 0) + v);
    into.ops += t.ops;
    into.failed += t.failed;
    into.durSum += t.durSum;
    into.durCount += t.durCount;
    return into;
  });

/**
 * vigil_stage_duration_seconds as a Prometheus histogram with fixed buckets, derived
 * from the stored log-bucket histograms: a stored bucket counts toward `le` when its
 * reported value (its geometric middle, within 2.5 % of every value in it) is ≤ le.
 * prom-client's Histogram can only observe, not be set, hence this small metric.
 */
class StageDurationHistogram {
  readonly name = 'vigil_stage_duration_seconds';
  readonly help = 'Duration of operations (duration_seconds of completed stages), all time, per stage.';
  readonly type = 'histogram';
  readonly labelNames = ['stage'];
  readonly aggregator = 'sum';

  constructor(private readonly snapshot: () => Snapshot) {}

  async get() {
    const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
    for (const [stage, t] of this.snapshot().stages) {
      const total = t.hist.total;
      if (total === 0) continue;
      const perLe = new Array<number>(STAGE_DURATION_BUCKETS.length).fill(0);
      for (const [idx, n] of t.hist.counts) {
        const v = bucketValue(idx);
        const b = STAGE_DURATION_BUCKETS.findIndex((le) => v <= le);
        if (b >= 0) perLe[b]! += n;
      }
      let cum = 0;
      STAGE_DURATION_BUCKETS.forEach((le, i) => {
        cum += perLe[i]!;
        values.push({ metricName: `${this.name}_bucket`, labels: { le, stage }, value: cum });
      });
      values.push({ metricName: `${this.name}_bucket`, labels: { le: '+Inf', stage }, value: total });
      values.push({ metricName: `${this.name}_sum`, labels: { stage }, value: t.durSum });
      values.push({ metricName: `${this.name}_count`, labels: { stage }, value: total });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    /* nothing kept between scrapes */
  }
}
