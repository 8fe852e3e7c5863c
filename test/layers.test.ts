/**
 * The import graph shows the layers (DEVELOPERS "Shape of the code"): what others build on never
 * imports what builds on it, types included, and no two folders import each other, directly or
 * through others. Run alone: `npx vitest run test/layers.test.ts`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/** The layer of each top-level folder (or file) of src/: a folder may import only its own layer or lower ones. */
const LAYER: Record<string, number> = {
  util: 0,
  'clock.ts': 0,
  'errors.ts': 0,
  'log.ts': 0,
  parse: 1,
  tail: 1,
  config: 1,
  emit: 1,
  store: 2,
  ingest: 3,
  rules: 3,
  collect: 3,
  notify: 4,
  api: 5,
  replay: 5,
  ruletest: 5,
  'agent.ts': 6,
  cli: 6,
  demo: 6,
};

// import … from '…', export … from '…', import('…') in a type or an expression, bare import '…'.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const p = path.join(dir, d.name);
    return d.isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const unit = (file: string) => path.relative(SRC, file).split(path.sep)[0]!;

/** Folder → the folders it imports, with one file that does it for each. */
function graph(): Map<string, Map<string, string>> {
  const g = new Map<string, Map<string, string>>();
  for (const file of walk(SRC)) {
    const from = unit(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(SPECIFIER)) {
      const to = unit(path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
      if (to === from) continue;
      if (!g.has(from)) g.set(from, new Map());
      if (!g.get(from)!.has(to)) g.get(from)!.set(to, path.relative(SRC, file));
    }
  }
  return g;
}

describe('the import graph shows the layers', () => {
  const g = graph();

  it('every folder of src/ has a layer', () => {
    const units = new Set(walk(SRC).map(unit));
    expect([...units].filter((u) => !(u in LAYER))).toEqual([]);
  });

  it('no folder imports one of a layer above it (types included)', () => {
    const up: string[] = [];
    for (const [from, tos] of g)
      for (const [to, file] of tos) if (LAYER[to]! > LAYER[from]!) up.push(`src/${file} (${from}, layer ${LAYER[from]}) imports ${to} (layer ${LAYER[to]})`);
    expect(up).toEqual([]);
  });

  it('there are no folder cycles', () => {
    const cycles: string[] = [];
    const seen = new Set<string>();
    const visit = (u: string, trail: string[]) => {
      const i = trail.indexOf(u);
      if (i >= 0) return void cycles.push([...trail.slice(i), u].join(' → '));
      if (seen.has(u)) return;
      for (const to of g.get(u)?.keys() ?? []) visit(to, [...trail, u]);
      seen.add(u);
    };
    for (const u of g.keys()) visit(u, []);
    expect(cycles).toEqual([]);
  });
});
