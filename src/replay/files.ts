/**
 * Replay inputs: files as given, directories expanded to their *.log files with the
 * rotated siblings (app.log.3, app.log.2, app.log.1, app.log — oldest first; dateext
 * names too), each logical file read as one continuous stream. Rotation names are
 * parsed by the tailer's own rules, so replay and live agree on what a family is.
 */
import fs from 'node:fs';
import path from 'node:path';
import { VigilError } from '../errors.js';
import { isCompressed, logicalName, parseRotation } from '../tail/discover.js';

export interface LogicalFile {
  /** The logical name stored in file_stats and matched by `file:` params: the path without its rotation suffix. */
  name: string;
  /** The files making up the stream, oldest first. */
  parts: string[];
}

/**
 * Expands replay paths. A directory gives one logical file per `*.log` name found in it
 * (with its rotated siblings, also when only rotated parts are left); compressed
 * rotations are not read. A file is one stream by itself. Order: as given, a
 * directory's logical files by name.
 */
export function expandInputs(paths: readonly string[]): LogicalFile[] {
  const out: LogicalFile[] = [];
  const seen = new Set<string>();
  const push = (f: LogicalFile) => {
    const key = f.parts.join('\0');
    if (seen.has(key)) return;
    seen.add(key);
    out.push(f);
  };
  for (const p of paths) {
    let st: fs.Stats;
    try {
      st = fs.statSync(p);
    } catch (e) {
      throw new VigilError('VIGIL_TAIL_IO', `${p}: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
    }
    if (!st.isDirectory()) {
      // Read as text, its compressed bytes would be counted as thousands of rejected lines.
      if (isCompressed(p)) throw new VigilError('VIGIL_TAIL_IO', `${p}: compressed files are not replayed; decompress it first (gunzip -k ${p})`);
      push({ name: logicalName(p), parts: [p] });
      continue;
    }
    const groups = new Map<string, { rank: number; file: string }[]>();
    for (const entry of fs.readdirSync(p, { withFileTypes: true })) {
      if (!entry.isFile() || isCompressed(entry.name)) continue;
      const r = parseRotation(entry.name);
      if (!r.base.endsWith('.log')) continue;
      const list = groups.get(r.base) ?? [];
      list.push({ rank: r.rank, file: path.join(p, entry.name) });
      groups.set(r.base, list);
    }
    for (const base of [...groups.keys()].sort()) {
      const parts = groups
        .get(base)!
        .sort((a, b) => b.rank - a.rank)
        .map((x) => x.file);
      push({ name: path.join(p, base), parts });
    }
  }
  return out;
}
