/**
 * A small glob matcher: `*`, `?`, `[abc]`/`[!a-z]`, `{a,b}` inside a path segment and `**`
 * for any depth of directories. Node 20 has no fs.glob, and picomatch is only a transitive
 * dependency; log inputs need no more than this.
 *
 * The last segment is kept as a predicate rather than expanded, because discovery must also
 * accept rotated names (`app.log.1`) whose live name (`app.log`) matches it, even when the
 * live file does not exist at that moment.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

const MAGIC = /[*?[{]/;
/** `**` recursion stops here; log trees are shallow, and symlinked dirs are not followed. */
const MAX_DEPTH = 16;

export function isMagic(segment: string): boolean {
  return MAGIC.test(segment);
}

export type DirSegment = { kind: 'literal'; name: string } | { kind: 'match'; re: RegExp } | { kind: 'globstar' };

export interface CompiledGlob {
  /** The absolute directory before the first magic segment. */
  root: string;
  /** Directory segments after root (magic or not), in order. */
  dirs: DirSegment[];
  /** Does a file name match the last segment? */
  matchName: (name: string) => boolean;
  /** The last segment has no wildcard: the pattern names one file. */
  literalName: string | null;
}

export function segmentRegExp(segment: string): RegExp {
  let re = '';
  let i = 0;
  let inBrace = 0;
  while (i < segment.length) {
    const c = segment[i]!;
    if (c === '*') {
      re += '[^/]*';
      while (segment[i + 1] === '*') i++;
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const close = segment.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
      } else {
        let body = segment.slice(i + 1, close);
        let neg = false;
        if (body[0] === '!' || body[0] === '^') {
          neg = true;
          body = body.slice(1);
        }
        body = body.replace(/[\\\]]/g, '\\$&');
        re += `[${neg ? '^' : ''}${body}]`;
        i = close;
      }
    } else if (c === '{') {
      inBrace++;
      re += '(?:';
    } else if (c === '}' && inBrace > 0) {
      inBrace--;
      re += ')';
    } else if (c === ',' && inBrace > 0) {
      re += '|';
    } else if (c === '\\' && i + 1 < segment.length) {
      i++;
      re += segment[i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    } else {
      re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    }
    i++;
  }
  while (inBrace-- > 0) re += ')';
  // As in shells, a wildcard at the start of a segment does not match a leading dot.
  const dotGuard = segment[0] === '*' || segment[0] === '?' || segment[0] === '[' ? '(?!\\.)' : '';
  return new RegExp(`^${dotGuard}${re}$`);
}

export function compileGlob(pattern: string, cwd = process.cwd()): CompiledGlob {
  const abs = path.resolve(cwd, pattern);
  const parts = abs.split('/').filter((p, idx) => p !== '' || idx === 0);
  const lastPart = parts.pop() ?? '';
  let rootParts: string[] = [];
  let k = 0;
  for (; k < parts.length && !isMagic(parts[k]!); k++) rootParts.push(parts[k]!);
  const dirs: DirSegment[] = [];
  for (; k < parts.length; k++) {
    const p = parts[k]!;
    if (p === '**') dirs.push({ kind: 'globstar' });
    else if (isMagic(p)) dirs.push({ kind: 'match', re: segmentRegExp(p) });
    else dirs.push({ kind: 'literal', name: p });
  }
  if (rootParts.length === 0 || (rootParts.length === 1 && rootParts[0] === '')) rootParts = [''];
  const root = rootParts.join('/') || '/';
  if (isMagic(lastPart)) {
    const re = segmentRegExp(lastPart);
    return { root, dirs, matchName: (n) => re.test(n), literalName: null };
  }
  return { root, dirs, matchName: (n) => n === lastPart, literalName: lastPart };
}

/** Directories that may hold files matching the glob (existing ones only). */
export function expandDirs(g: CompiledGlob, onError?: (dir: string, err: NodeJS.ErrnoException) => void): string[] {
  const out: string[] = [];
  const walk = (dir: string, idx: number, depth: number): void => {
    if (idx === g.dirs.length) {
      out.push(dir);
      return;
    }
    const seg = g.dirs[idx]!;
    if (seg.kind === 'literal') {
      walk(path.join(dir, seg.name), idx + 1, depth);
      return;
    }
    if (seg.kind === 'globstar') walk(dir, idx + 1, depth);
    if (depth >= MAX_DEPTH) return;
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') onError?.(dir, err);
      return;
    }
    for (const ent of entries) {
      if (!ent.isDirectory()) continue;
      if (seg.kind === 'globstar') {
        if (ent.name.startsWith('.')) continue;
        walk(path.join(dir, ent.name), idx, depth + 1);
      } else if (seg.re.test(ent.name)) {
        walk(path.join(dir, ent.name), idx + 1, depth + 1);
      }
    }
  };
  walk(g.root, 0, 0);
  return [...new Set(out)];
}

/** What a watcher should watch for a pattern: the static directory and whether to recurse. */
export function watchRoot(pattern: string, cwd = process.cwd()): { dir: string; recursive: boolean } {
  const g = compileGlob(pattern, cwd);
  if (g.dirs.length === 0) return { dir: g.root, recursive: false };
  return { dir: g.root, recursive: true };
}
