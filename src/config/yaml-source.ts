import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { Located } from '../errors.js';

/**
 * A YAML file kept with its node positions, so that any problem found later — by a
 * schema, by ${VAR} expansion, by a semantic check — can be reported as file:line:col.
 */
export class YamlSource {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly problems: Located[] = [];

  constructor(
    readonly file: string,
    text: string,
  ) {
    this.lines = new LineCounter();
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    for (const e of [...this.doc.errors, ...this.doc.warnings]) {
      const [line, col] = e.linePos?.[0] ? [e.linePos[0].line, e.linePos[0].col] : this.pos(e.pos[0]);
      this.problems.push({ file, line, col, message: e.message.split('\n')[0]! });
    }
  }

  toJS(): unknown {
    return this.doc.toJS({ maxAliasCount: 100 });
  }

  private pos(offset: number): [number, number] {
    const p = this.lines.linePos(offset);
    return [p.line, p.col];
  }

  /** Position of the node at `path` (keys and indexes); falls back to the nearest parent. */
  locate(path: ReadonlyArray<string | number>, which: 'key' | 'value' = 'value'): { line: number; col: number } {
    const [line, col] = this.pos(nodeAt(this.doc.contents, path, which)?.range?.[0] ?? 0);
    return { line, col };
  }

  problem(path: ReadonlyArray<string | number>, message: string, which: 'key' | 'value' = 'value'): Located {
    const { line, col } = this.locate(path, which);
    return { file: this.file, line, col, message };
  }
}

/**
 * The deepest node along `path` (a missing step stops at its parent; an empty value is
 * located at its key); with 'key', the last step's key.
 */
export function nodeAt(root: unknown, path: ReadonlyArray<string | number>, which: 'key' | 'value' = 'value'): Node | null {
  let node = root as Node | null;
  let best = node;
  for (const [n, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(seg));
      if (!pair) break;
      const wantKey = which === 'key' && n === path.length - 1;
      node = wantKey ? (pair.key as Node) : ((pair.value as Node | null) ?? (pair.key as Node));
    } else if (isSeq(node) && typeof seg === 'number') {
      node = (node.items[seg] as Node | undefined) ?? null;
    } else break;
    if (!node) break;
    if (node.range) best = node;
  }
  return best;
}

/** Every scalar string in the document with its path (for ${VAR} expansion). */
export function walkStrings(value: unknown, visit: (path: (string | number)[], s: string) => string, path: (string | number)[] = []): unknown {
  if (typeof value === 'string') return visit(path, value);
  if (Array.isArray(value)) return value.map((v, i) => walkStrings(v, visit, [...path, i]));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value)) {
      // defineProperty, not assignment: a "__proto__" key stays plain data.
      Object.defineProperty(out, k, { value: walkStrings((value as Record<string, unknown>)[k], visit, [...path, k]), enumerable: true, writable: true, configurable: true });
    }
    return out;
  }
  return value;
}
