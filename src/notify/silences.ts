/**
 * Silences: label matchers with a start and an end, stored in SQLite so `vigil silence add`
 * (another process) and the running agent share them without a restart. A silence mutes
 * notifications only; the rule engine keeps stepping and recording the alert.
 */
import { VigilError } from '../errors.js';
import type { DB } from '../store/db.js';

export type MatchOp = '=' | '!=' | '=~' | '!~';
export const MATCH_OPS: readonly MatchOp[] = ['=', '!=', '=~', '!~'];

export interface LabelMatcher {
  name: string;
  value: string;
  op: MatchOp;
}

export interface Silence {
  id: number;
  matchers: LabelMatcher[];
  startsAt: number;
  endsAt: number;
  createdBy: string | null;
  comment: string | null;
  createdAt: number;
}

export type SilenceStatus = 'active' | 'pending' | 'expired';

export function silenceStatus(s: Pick<Silence, 'startsAt' | 'endsAt'>, now: number): SilenceStatus {
  if (s.endsAt <= now) return 'expired';
  return s.startsAt > now ? 'pending' : 'active';
}

const MATCHER = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/s;

/** `name=value`, `name!=value`, `name=~regex`, `name!~regex`; the value may be quoted. */
export function parseMatcher(text: string): LabelMatcher {
  const m = MATCHER.exec(text);
  if (!m) {
    throw new VigilError('VIGIL_SILENCE_INVALID', `matcher "${text}": expected name=value, name!=value, name=~regex or name!~regex`);
  }
  let value = m[3]!;
  if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) {
    value = value.slice(1, -1);
  }
  const matcher: LabelMatcher = { name: m[1]!, op: m[2] as MatchOp, value };
  checkMatcher(matcher, text);
  return matcher;
}

function checkMatcher(m: LabelMatcher, shown: string): void {
  if (m.op === '=~' || m.op === '!~') {
    try {
      new RegExp(anchored(m.value));
    } catch (e) {
      throw new VigilError('VIGIL_SILENCE_INVALID', `matcher "${shown}": invalid regular expression: ${(e as Error).message}`);
    }
  }
}

/** Regexes match the whole value, as in Prometheus and Alertmanager. */
function anchored(re: string): string {
  return `^(?:${re})$`;
}

export function formatMatcher(m: LabelMatcher): string {
  return `${m.name}${m.op}${/[\s,"']/.test(m.value) || m.value === '' ? JSON.stringify(m.value) : m.value}`;
}

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

/** All matchers must hold. A missing label reads as "" (so `stage!=merging` matches an alert without a stage). */
export function compileMatchers(matchers: readonly LabelMatcher[]): LabelPredicate {
  const tests = matchers.map((m): LabelPredicate => {
    const get = (l: Readonly<Record<string, string>>) => l[m.name] ?? '';
    switch (m.op) {
      case '=':
        return (l) => get(l) === m.value;
      case '!=':
        return (l) => get(l) !== m.value;
      case '=~': {
        const re = new RegExp(anchored(m.value));
        return (l) => re.test(get(l));
      }
      case '!~': {
        const re = new RegExp(anchored(m.value));
        return (l) => !re.test(get(l));
      }
    }
  });
  return (labels) => tests.every((t) => t(labels));
}

/** What a silence (and a route) matches against: the alert's labels plus `rule` and `severity`. */
export function matchableLabels(a: { rule: string; severity: string; labels: Readonly<Record<string, string>> }): Record<string, string> {
  return { rule: a.rule, severity: a.severity, ...a.labels };
}

export interface NewSilence {
  matchers: LabelMatcher[];
  startsAt: number;
  endsAt: number;
  createdBy?: string | null;
  comment?: string | null;
}

interface SilenceRow {
  id: number;
  matchers: string;
  starts_at: number;
  ends_at: number;
  created_by: string | null;
  comment: string | null;
  created_at: number;
}

function fromRow(r: SilenceRow): Silence {
  return {
    id: r.id,
    matchers: JSON.parse(r.matchers) as LabelMatcher[],
    startsAt: r.starts_at,
    endsAt: r.ends_at,
    createdBy: r.created_by,
    comment: r.comment,
    createdAt: r.created_at,
  };
}

/** A row edited by hand into nonsense is skipped: it must not stop alerts from being recorded, and it mutes nothing. */
function readable(rows: SilenceRow[]): Silence[] {
  const out: Silence[] = [];
  for (const r of rows) {
    try {
      out.push(fromRow(r));
    } catch {
      /* skipped */
    }
  }
  return out;
}

/** All SQL on the `silences` table. Reads are cheap enough to run at every enqueue and before every send, so a new silence counts at once. */
export class SilenceStore {
  private readonly compiled = new Map<string, LabelPredicate>();

  constructor(private readonly db: DB) {}

  add(s: NewSilence, now: number): Silence {
    if (s.matchers.length === 0) {
      throw new VigilError('VIGIL_SILENCE_INVALID', 'a silence needs at least one matcher (a silence without one would mute everything)');
    }
    for (const m of s.matchers) {
      if (!MATCH_OPS.includes(m.op)) throw new VigilError('VIGIL_SILENCE_INVALID', `matcher ${m.name}: unknown operator ${m.op}`);
      checkMatcher(m, formatMatcher(m));
    }
    if (!(s.endsAt > s.startsAt)) throw new VigilError('VIGIL_SILENCE_INVALID', 'a silence must end after it starts');
    const info = this.db
      .prepare('INSERT INTO silences (matchers, starts_at, ends_at, created_by, comment, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(JSON.stringify(s.matchers.map(({ name, op, value }) => ({ name, op, value }))), s.startsAt, s.endsAt, s.createdBy ?? null, s.comment ?? null, now);
    return this.get(Number(info.lastInsertRowid))!;
  }

  get(id: number): Silence | undefined {
    const r = this.db.prepare('SELECT * FROM silences WHERE id = ?').get(id) as SilenceRow | undefined;
    return r ? fromRow(r) : undefined;
  }

  /** Active and pending silences (plus expired ones with `includeExpired`), newest first. */
  list(now: number, opts: { includeExpired?: boolean } = {}): Silence[] {
    const rows = opts.includeExpired
      ? (this.db.prepare('SELECT * FROM silences ORDER BY id DESC').all() as SilenceRow[])
      : (this.db.prepare('SELECT * FROM silences WHERE ends_at > ? ORDER BY id DESC').all(now) as SilenceRow[]);
    return readable(rows);
  }

  /** Ends a silence now. `changed` is false when it had already ended; undefined when there is no such silence. */
  expire(id: number, now: number): { silence: Silence; changed: boolean } | undefined {
    const before = this.get(id);
    if (!before) return undefined;
    if (before.endsAt <= now) return { silence: before, changed: false };
    this.db.prepare('UPDATE silences SET ends_at = ?, starts_at = min(starts_at, ?) WHERE id = ?').run(now, now, id);
    return { silence: this.get(id)!, changed: true };
  }

  active(now: number): Silence[] {
    const rows = this.db.prepare('SELECT * FROM silences WHERE ends_at > ? AND starts_at <= ? ORDER BY id').all(now, now) as SilenceRow[];
    return readable(rows);
  }

  /** The first active silence whose matchers all hold for these labels. */
  match(labels: Readonly<Record<string, string>>, now: number): Silence | undefined {
    return this.matcherAt(now)(labels);
  }

  /** match() for many label sets at one instant: the active silences are read once. */
  matcherAt(now: number): (labels: Readonly<Record<string, string>>) => Silence | undefined {
    const active = this.active(now).map((s) => ({ s, p: this.predicate(s) }));
    return (labels) => active.find((a) => a.p(labels))?.s;
  }

  private predicate(s: Silence): LabelPredicate {
    const key = `${s.id}:${JSON.stringify(s.matchers)}`;
    let p = this.compiled.get(key);
    if (!p) {
      if (this.compiled.size > 1000) this.compiled.clear();
      try {
        p = Array.isArray(s.matchers) && s.matchers.length > 0 ? compileMatchers(s.matchers) : () => false;
      } catch {
        p = () => false; // same as above: an unreadable silence mutes nothing
      }
      this.compiled.set(key, p);
    }
    return p;
  }
}
