import { readdir, stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { VigilError } from '../errors.js';

/**
 * Backup paths name their date with placeholders: {YYYYMMDD}, {YYYY-MM-DD}, {YYYY},
 * {MM}, {DD}, {HH}. They may sit in any path segment (/backups/{YYYY}/{MM}/db-{DD}.gz).
 */
export type BackupTz = 'local' | 'utc';

const PLACEHOLDER = /\{(YYYYMMDD|YYYY-MM-DD|YYYY|MM|DD|HH)\}/g;
const ANY_BRACED = /\{[A-Za-z-]+\}/g;

type Part = 'Y' | 'M' | 'D' | 'H';
const CAPTURES: Record<string, { re: string; parts: Part[] }> = {
  YYYYMMDD: { re: '(\\d{4})(\\d{2})(\\d{2})', parts: ['Y', 'M', 'D'] },
  'YYYY-MM-DD': { re: '(\\d{4})-(\\d{2})-(\\d{2})', parts: ['Y', 'M', 'D'] },
  YYYY: { re: '(\\d{4})', parts: ['Y'] },
  MM: { re: '(\\d{2})', parts: ['M'] },
  DD: { re: '(\\d{2})', parts: ['D'] },
  HH: { re: '(\\d{2})', parts: ['H'] },
};

/** Throws VIGIL_RULE_INVALID for a `{…}` that is not one of the known placeholders. */
export function checkPattern(pattern: string): void {
  if (typeof pattern !== 'string' || pattern.trim() === '') throw new VigilError('VIGIL_RULE_INVALID', 'backup path is empty');
  for (const m of pattern.matchAll(ANY_BRACED)) {
    if (!(m[0].slice(1, -1) in CAPTURES)) {
      throw new VigilError(
        'VIGIL_RULE_INVALID',
        `backup path ${JSON.stringify(pattern)}: unknown placeholder ${m[0]} (known: {YYYYMMDD} {YYYY-MM-DD} {YYYY} {MM} {DD} {HH})`,
      );
    }
  }
}

export function hasPlaceholder(pattern: string): boolean {
  return new RegExp(PLACEHOLDER.source).test(pattern);
}

/** The path for the period containing `now` (today, or this hour with {HH}). */
export function resolveBackupPath(pattern: string, now: number, tz: BackupTz = 'local'): string {
  checkPattern(pattern);
  const d = new Date(now);
  const utc = tz === 'utc';
  const Y = String(utc ? d.getUTCFullYear() : d.getFullYear()).padStart(4, '0');
  const M = pad2((utc ? d.getUTCMonth() : d.getMonth()) + 1);
  const D = pad2(utc ? d.getUTCDate() : d.getDate());
  const H = pad2(utc ? d.getUTCHours() : d.getHours());
  const values: Record<string, string> = { YYYYMMDD: `${Y}${M}${D}`, 'YYYY-MM-DD': `${Y}-${M}-${D}`, YYYY: Y, MM: M, DD: D, HH: H };
  return pattern.replace(PLACEHOLDER, (_m, name: string) => values[name]!);
}

export interface BackupFile {
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

/**
 * The newest existing file matching the pattern with any date, judged by the date in
 * its name (modification time breaks ties). Only directories the pattern names are
 * listed, one level per placeholder segment, so the cost follows the backup count.
 */
export async function findLatestBackup(pattern: string): Promise<BackupFile | null> {
  checkPattern(pattern);
  const absolute = resolve(pattern);
  const segments = absolute.split(sep).filter((s) => s !== '');
  type Candidate = { path: string; parts: Partial<Record<Part, number>> };
  let candidates: Candidate[] = [{ path: sep, parts: {} }];
  for (const segment of segments) {
    if (!hasPlaceholder(segment)) {
      candidates = candidates.map((c) => ({ path: join(c.path, segment), parts: c.parts }));
      continue;
    }
    const { re, parts } = segmentRegex(segment);
    const next: Candidate[] = [];
    for (const c of candidates) {
      let names: string[];
      try {
        names = await readdir(c.path);
      } catch {
        continue; // a missing or unreadable directory simply holds no backups
      }
      for (const name of names) {
        const m = re.exec(name);
        if (!m) continue;
        const merged = mergeParts(c.parts, parts, m);
        if (merged) next.push({ path: join(c.path, name), parts: merged });
      }
    }
    candidates = next;
  }
  const withKey = candidates.map((c) => ({ path: c.path, key: dateKey(c.parts) })).sort((a, b) => b.key - a.key);
  let best: BackupFile | null = null;
  let bestKey = -Infinity;
  for (const c of withKey) {
    if (best && c.key < bestKey) break;
    try {
      const st = await stat(c.path);
      if (!st.isFile()) continue;
      if (!best || st.mtimeMs > best.mtimeMs) {
        best = { path: c.path, sizeBytes: st.size, mtimeMs: st.mtimeMs };
        bestKey = c.key;
      }
    } catch {
      // vanished between listing and stat (rotation); look at the next one
    }
  }
  return best;
}

function segmentRegex(segment: string): { re: RegExp; parts: Part[] } {
  const parts: Part[] = [];
  let src = '';
  let last = 0;
  for (const m of segment.matchAll(PLACEHOLDER)) {
    src += escapeRe(segment.slice(last, m.index));
    const cap = CAPTURES[m[1]!]!;
    src += cap.re;
    parts.push(...cap.parts);
    last = m.index! + m[0].length;
  }
  src += escapeRe(segment.slice(last));
  return { re: new RegExp(`^${src}$`), parts };
}

/** The same placeholder may appear twice ({YYYY}/{YYYYMMDD}); the two must agree. */
function mergeParts(into: Partial<Record<Part, number>>, parts: Part[], m: RegExpExecArray): Partial<Record<Part, number>> | null {
  const out = { ...into };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const v = Number(m[i + 1]);
    if (out[p] !== undefined && out[p] !== v) return null;
    out[p] = v;
  }
  return out;
}

function dateKey(p: Partial<Record<Part, number>>): number {
  return (((p.Y ?? 0) * 100 + (p.M ?? 0)) * 100 + (p.D ?? 0)) * 100 + (p.H ?? 0);
}

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}
