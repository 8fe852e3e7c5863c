/** What rule files and rule-test files share in reporting problems at YAML nodes. */
import { isMap, isScalar, isSeq, type LineCounter, type Node, type YAMLError } from 'yaml';
import type { Located } from '../errors.js';
import { describe } from './facts.js';

/** A map entry by its key name: the key node (for positions) and its value. */
export type Field = { key: Node; value: Node | null };

/** "a map", "a list", `the string "x"`, "number 3", "nothing": what a message says was found. */
export function nodeKind(node: Node | null | undefined): string {
  if (!node) return 'nothing';
  if (isMap(node)) return 'a map';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) return describe(node.value);
  return 'something else';
}

/** YAML syntax errors at their positions; the message's own "at line …" is dropped, the position says it. */
export function yamlErrors(file: string, errors: readonly YAMLError[], lc: LineCounter): Located[] {
  return errors.map((e) => ({ file, ...lc.linePos(e.pos[0]), message: `YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}` }));
}

export function cannotRead(file: string, e: unknown): Located {
  return { file, line: 1, col: 1, message: `cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}` };
}
