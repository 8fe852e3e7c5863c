/**
 * Replay inputs: files as given, directories expanded to the files the config's inputs
 * would tail there (their globs' file-name patterns: `*.log` by default) with the rotated
 * siblings (app.log.3, app.log.2, app.log.1, app.log — oldest first; dateext names too),
 * each logical file read as one continuous stream in the format of the input it belongs
 * to. Rotation names and globs are the tailer's own, so replay and live agree on what a
 * family is and how its lines are read.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { InputConfig } from '../config/load.js';
import { DEFAULTS } from '../config/load.js';
import { VigilError } from '../errors.js';
import type { FormatName } from '../parse/event.js';
import { isCompressed, logicalName, parseRotation } from '../tail/discover.js';
import { compileGlob, expandDirs, type CompiledGlob } from '../tail/glob.js';

export interface LogicalFile {
  /** The logical name stored in file_stats and matched by `file:` params: the path without its rotation suffix. */
  name: string;
  /** The files making up the stream, oldest first. */
  parts: string[];
  /** The format of the config input the file belongs to; absent: each line's own (auto). */
  format?: FormatName;
}

export type ReplayInputConfig = Pick<InputConfig, 'path' | 'format'>;

interface Matcher {
  glob: CompiledGlob;
  dirs: Set<string> | null;
  format: FormatName | undefined;
}

/**
 * The config input a file belongs to: the first whose glob matches its path, else (logs
 * copied elsewhere to be replayed) the first whose file-name pattern matches its name.
 */
function formatOf(matchers: Matcher[], logical: string): FormatName | undefined {
  const name = path.basename(logical);
  const dir = path.dirname(path.resolve(logical));
  const named = matchers.filter((m) => m.glob.matchName(name));
  for (const m of named) {
    m.dirs ??= new Set(expandDirs(m.glob).map((d) => path.resolve(d)));
    if (m.dirs.has(dir)) return m.format;
  }
  return named[0]?.format;
}

/**
 * Expands replay paths. A directory gives one logical file per name found in it that an input's pattern matches
 * (with its rotated siblings, also when only rotated parts are left); compressed
 * rotations are not read. A file is one stream by itself. Order: as given, a
 * directory's logical files by name.
 */
export function expandInputs(paths: readonly string[], inputs: readonly ReplayInputConfig[] = DEFAULTS.inputs): LogicalFile[] {
  const matchers: Matcher[] = inputs.map((i) => ({ glob: compileGlob(i.path), dirs: null, format: i.format === 'auto' ? undefined : i.format }));
  const out: LogicalFile[] = [];
  const seen = new Set<string>();
  const push = (f: LogicalFile) => {
    const key = f.parts.join('\0');
    if (seen.has(key)) return;
    seen.add(key);
    const format = formatOf(matchers, f.name);
    out.push(format === undefined ? f : { ...f, format });
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
      if (!matchers.some((m) => m.glob.matchName(r.base))) continue;
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
