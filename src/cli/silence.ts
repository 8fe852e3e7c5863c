/**
 * `vigil silence add | list | expire`: writes the `silences` table of the store the agent uses.
 * The running agent reads silences at every enqueue and again before every send, so a new one
 * counts at once (even for a notification already queued), no restart.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { resolveStateDir, type StoreOpts } from './state-dir.js';
import { systemClock, type Clock } from '../clock.js';
import { VigilError } from '../errors.js';
import { formatMatcher, parseMatcher, SilenceStore, silenceStatus, type Silence } from '../notify/silences.js';
import { openStore } from '../store/db.js';
import { formatDuration, parseDuration } from '../util/duration.js';
import { parseTime } from '../util/time-range.js';

export interface SilenceCliIO {
  out?: (text: string) => void;
  clock?: Clock;
}

export function registerSilence(program: Command, io: SilenceCliIO = {}): void {
  const out = io.out ?? ((t: string) => process.stdout.write(t));
  const clock = io.clock ?? systemClock;
  const silence = program.command('silence').description('mute notifications matching labels for a while (alert state is still kept)');

  const storeOptions = (c: Command) =>
    c.option('--config <file>', 'vigil.yaml to take state_dir from (default $VIGIL_CONFIG)').option('--state-dir <dir>', 'the state directory (instead of --config)');

  storeOptions(
    silence
      .command('add')
      .description('add a silence: every --matcher must hold (labels plus rule and severity; =, !=, =~, !~)')
      .requiredOption('--matcher <m>', "e.g. rule=high_error_rate or 'stage=~merg.*' (repeatable)", (v: string, prev: string[] = []) => [...prev, v])
      .option('--duration <d>', 'how long, from --starts-at (e.g. 30m, 2h, 1d)', '1h')
      .option('--starts-at <time>', 'ISO-8601 or epoch seconds (default now)')
      .option('--comment <text>', 'why; shown by list')
      .option('--author <name>', 'who (default the current user)')
      .option('--json', 'print the silence as JSON'),
  ).action((opts: StoreOpts & { matcher: string[]; duration: string; startsAt?: string; comment?: string; author?: string; json?: boolean }) => {
    const matchers = opts.matcher.map(parseMatcher);
    let durationMs: number;
    try {
      durationMs = parseDuration(opts.duration);
    } catch {
      throw new VigilError('VIGIL_SILENCE_INVALID', `--duration "${opts.duration}" is not a duration (e.g. 30m, 2h, 1d)`);
    }
    if (durationMs <= 0) throw new VigilError('VIGIL_SILENCE_INVALID', '--duration must be longer than 0');
    const now = clock.now();
    const startsAt = opts.startsAt !== undefined ? parseTime(opts.startsAt) : now;
    withStore(opts, (store) => {
      const s = store.add({ matchers, startsAt, endsAt: startsAt + durationMs, createdBy: opts.author ?? currentUser(), comment: opts.comment ?? null }, now);
      out(opts.json ? `${JSON.stringify(toJson(s, now))}\n` : `silence ${s.id} added: ${s.matchers.map(formatMatcher).join(' ')} until ${iso(s.endsAt)} (${formatDuration(durationMs)})\n`);
    });
  });

  storeOptions(
    silence
      .command('list')
      .description('list active and pending silences')
      .option('--all', 'include expired silences')
      .option('--json', 'one JSON object per line'),
  ).action((opts: StoreOpts & { all?: boolean; json?: boolean }) => {
    const now = clock.now();
    withStore(opts, (store) => {
      const list = store.list(now, { includeExpired: opts.all === true });
      if (opts.json) {
        out(list.map((s) => `${JSON.stringify(toJson(s, now))}\n`).join(''));
        return;
      }
      if (list.length === 0) {
        out(opts.all ? 'no silences\n' : 'no active or pending silences (--all shows expired ones)\n');
        return;
      }
      out(table(['ID', 'STATUS', 'STARTS', 'ENDS', 'BY', 'MATCHERS', 'COMMENT'], list.map((s) => [
        String(s.id),
        silenceStatus(s, now),
        iso(s.startsAt),
        iso(s.endsAt),
        s.createdBy ?? '',
        s.matchers.map(formatMatcher).join(' '),
        s.comment ?? '',
      ])));
    });
  });

  storeOptions(silence.command('expire').description('end a silence now').argument('<id>', 'the silence id (see list)')).action((id: string, opts: StoreOpts) => {
    if (!/^\d+$/.test(id)) throw new VigilError('VIGIL_SILENCE_INVALID', `"${id}" is not a silence id (a number; see vigil silence list)`);
    const now = clock.now();
    withStore(opts, (store) => {
      const r = store.expire(Number(id), now);
      if (!r) throw new VigilError('VIGIL_SILENCE_INVALID', `there is no silence ${id} (see vigil silence list --all)`);
      out(r.changed ? `silence ${id} expired\n` : `silence ${id} had already ended at ${iso(r.silence.endsAt)}\n`);
    });
  });
}

function withStore(opts: StoreOpts, use: (store: SilenceStore) => void): void {
  const db = openStore(resolveStateDir(opts));
  try {
    use(new SilenceStore(db));
  } finally {
    db.close();
  }
}

function toJson(s: Silence, now: number) {
  return {
    id: s.id,
    status: silenceStatus(s, now),
    matchers: s.matchers,
    starts_at: iso(s.startsAt),
    ends_at: iso(s.endsAt),
    created_by: s.createdBy,
    comment: s.comment,
    created_at: iso(s.createdAt),
  };
}

function currentUser(): string | null {
  try {
    return os.userInfo().username;
  } catch {
    return process.env.USER ?? null;
  }
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.000Z$/, 'Z');
}

function table(head: string[], rows: string[][]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(head), ...rows.map(line)].join('\n') + '\n';
}
