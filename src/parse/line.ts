/**
 * One line of text → LogEvent, or the reason it was not accepted. Never throws:
 * a bad line is counted and sampled upstream, and reading goes on (DESIGN §2).
 */
import type { FormatName, ParseResult } from './event.js';
import { normalize } from './normalize.js';
import { errorText } from '../errors.js';

const MAX_DETAIL = 200;
const hasOwn = Object.hasOwn;

/** `format` forces a logger's shape (an input's `format:`); absent, each line's own is detected. */
export function parseLine(text: string, fallbackTs: number, maxDepth = 64, format?: FormatName): ParseResult {
  // A byte-order mark (first line of a file some Windows tools wrote) is not content.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = errorText(e);
    return { rejected: 'not_json', detail: msg.length > MAX_DETAIL ? msg.slice(0, MAX_DETAIL) : msg };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { rejected: 'not_object', detail: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value };
  }
  const obj = value as Record<string, unknown>;
  // Downstream code (storage, the API) serializes fields recursively; refuse what would blow its stack.
  // Only a line with a nested container can be deep; two native scans spare the walk for flat lines.
  if ((text.indexOf('{', 1) !== -1 || text.indexOf('[') !== -1) && nestedDeeperThan(obj, maxDepth)) {
    return { rejected: 'too_deep', detail: `nesting deeper than ${maxDepth}` };
  }
  const ev = normalize(obj, fallbackTs, format);
  // Buffer.toString('utf8') replaced invalid bytes with U+FFFD; the line is kept but flagged.
  if (text.indexOf('\uFFFD') !== -1) {
    if (ev.repairs === undefined) ev.repairs = ['invalid_utf8'];
    else ev.repairs.push('invalid_utf8');
  }
  return ev;
}

/**
 * True when containers nest deeper than `max` (the top object is depth 1). Iterative,
 * and flat lines cost one pass over their top-level values.
 */
export function nestedDeeperThan(root: object, max: number): boolean {
  let stack: object[] | undefined;
  let depths: number[] | undefined;
  for (const k in root) {
    if (!hasOwn(root, k)) continue; // an enumerable key on a polluted prototype is not the line's
    const v = (root as Record<string, unknown>)[k];
    if (typeof v === 'object' && v !== null) {
      if (stack === undefined) {
        stack = [];
        depths = [];
      }
      stack.push(v);
      depths!.push(2);
    }
  }
  if (stack === undefined) return max < 1;
  while (stack.length > 0) {
    const node = stack.pop()!;
    const depth = depths!.pop()!;
    if (depth > max) return true;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const v: unknown = node[i];
        if (typeof v === 'object' && v !== null) {
          stack.push(v);
          depths!.push(depth + 1);
        }
      }
    } else {
      for (const k in node) {
        if (!hasOwn(node, k)) continue;
        const v = (node as Record<string, unknown>)[k];
        if (typeof v === 'object' && v !== null) {
          stack.push(v);
          depths!.push(depth + 1);
        }
      }
    }
  }
  return false;
}
