/**
 * Discovery: expand the input globs and add every rotated sibling of a matching name
 * (`app.log.1`, `app.log-20261122`, `app.log-2026112213`), whether or not the live file
 * exists right now — between a rename and the writer's reopen there is no `app.log`, and
 * its rotated content must not look deleted. Compressed rotations are listed apart
 * (`compressed`; gzip only, the one format Node reads): their bytes are not the stream's
 * bytes, so the tailer never reads them as a file, only inflated to finish a stream whose
 * checkpoint they continue (see tailer.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compileGlob, expandDirs, type CompiledGlob } from './glob.js';
import type { InputSpec } from './types.js';

const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4|Z)$/;
const GZIP = /\.gz$/;
const ROTATION = /^(.+?)(?:\.(\d{1,6})|-(\d{8}|\d{10}))$/;

export interface RotationName {
  /** The live name the file was rotated from (itself for a live name). */
  base: string;
  /** 0 for the live name; larger is older (numbered: N; dateext: older dates rank higher). */
  rank: number;
}

export function isCompressed(name: string): boolean {
  return COMPRESSED.test(name);
}

/** `app.log.2.gz` ranks as `app.log.2`: a compressed rotation keeps its place in the family. */
export function parseRotation(name: string): RotationName {
  const m = ROTATION.exec(name.replace(COMPRESSED, ''));
  if (!m) return { base: name, rank: 0 };
  if (m[2] !== undefined) return { base: m[1]!, rank: Number(m[2]) };
  // YYYYMMDD[HH] as a 10-digit number; subtracting it from a constant ranks older dates higher
  // and keeps every dateext rank above any numbered rank.
  const stamp = m[3]!.length === 8 ? Number(m[3]) * 100 : Number(m[3]);
  return { base: m[1]!, rank: 1e11 - stamp };
}

/** The live name a path belongs to: `/x/app.log.3` and `/x/app.log-20261122` → `/x/app.log`. */
export function logicalName(p: string): string {
  return path.join(path.dirname(p), parseRotation(path.basename(p)).base);
}

export interface DiscoveredFile {
  path: string;
  /** Directory + live name: a live file and its rotations share a family. */
  family: string;
  rank: number;
  dev: number;
  ino: number;
  size: number;
  /** Index of the first input that matched. */
  input: number;
  /** A gzip-compressed rotation (`app.log.2.gz`): never read as a file. */
  compressed?: true;
}

export interface DiscoveryResult {
  files: DiscoveredFile[];
  /** Paths that matched but could not be stat'ed for another reason than vanishing. */
  errors: { path: string; err: NodeJS.ErrnoException }[];
}

export class Discovery {
  private readonly globs: CompiledGlob[];

  constructor(inputs: InputSpec[], cwd = process.cwd()) {
    this.globs = inputs.map((i) => compileGlob(i.path, cwd));
  }

  run(): DiscoveryResult {
    const files: DiscoveredFile[] = [];
    const errors: DiscoveryResult['errors'] = [];
    const seen = new Set<string>();
    const listings = new Map<string, string[] | null>();
    const list = (dir: string): string[] | null => {
      if (listings.has(dir)) return listings.get(dir)!;
      let names: string[] | null = null;
      try {
        names = fs.readdirSync(dir);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') errors.push({ path: dir, err });
      }
      listings.set(dir, names);
      return names;
    };
    this.globs.forEach((g, input) => {
      for (const dir of expandDirs(g, (d, err) => errors.push({ path: d, err }))) {
        const names = list(dir);
        if (!names) continue;
        for (const name of names) {
          const compressed = isCompressed(name);
          if (compressed && !GZIP.test(name)) continue;
          // A name matching the glob may itself be a rotation (glob `*.log*`): family and order
          // still come from the name.
          const r = parseRotation(name);
          // A compressed name is only ever a rotation of a matching name.
          if (!((!compressed && g.matchName(name)) || (r.rank > 0 && g.matchName(r.base)))) continue;
          const family = r.base;
          const rank = r.rank;
          const p = path.join(dir, name);
          let st: fs.Stats;
          try {
            st = fs.statSync(p);
          } catch (e) {
            const err = e as NodeJS.ErrnoException;
            if (err.code !== 'ENOENT') errors.push({ path: p, err });
            continue;
          }
          if (!st.isFile()) continue;
          const id = `${st.dev}:${st.ino}`;
          if (seen.has(id)) continue;
          seen.add(id);
          files.push({ path: p, family: path.join(dir, family), rank, dev: st.dev, ino: st.ino, size: st.size, input, ...(compressed ? { compressed: true as const } : {}) });
        }
      }
    });
    return { files, errors };
  }
}
