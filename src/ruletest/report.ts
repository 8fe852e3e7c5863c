/** Human-readable results of rule tests: one line per test, a per-alert diff for each failed eval_time. */
import { formatLocated } from '../errors.js';
import type { ExpectedAlert } from './format.js';
import type { FileResult, GotAlert } from './run.js';

function labelText(l: Record<string, string>): string {
  const keys = Object.keys(l);
  return keys.length === 0 ? '{}' : `{${keys.map((k) => `${k}=${JSON.stringify(l[k])}`).join(', ')}}`;
}

function expectedText(e: ExpectedAlert): string {
  let s = `${e.state.padEnd(8)} ${e.rule} ${labelText(e.labels)}`;
  if (e.severity !== undefined) s += ` severity=${e.severity}`;
  if (e.summary !== undefined) s += ` summary=${JSON.stringify(e.summary)}`;
  return s;
}

function gotText(g: GotAlert): string {
  return `${g.state.padEnd(8)} ${g.rule} ${labelText(g.labels)} severity=${g.severity} summary=${JSON.stringify(g.summary)}`;
}

/** The report of one test file, as lines. */
export function formatFileResult(r: FileResult): string[] {
  const out: string[] = [];
  if (r.problems.length > 0) {
    out.push(`${r.file}: not run:`);
    for (const p of r.problems) out.push(`  ${formatLocated(p)}`);
    return out;
  }
  out.push(r.file);
  for (const t of r.results) {
    out.push(`  ${t.ok ? 'ok  ' : 'FAIL'}  ${t.name}`);
    for (const f of t.failures) {
      out.push(`        ${r.file}:${f.eval.line}:${f.eval.col}: at eval_time ${f.eval.written} (${new Date(f.at).toISOString()}):`);
      out.push('          expected:');
      if (f.expected.length === 0) out.push('            (no alerts)');
      for (const e of f.expected) out.push(`            ${expectedText(e)}`);
      out.push('          got:');
      if (f.got.length === 0) out.push('            (no alerts)');
      for (const g of f.got) out.push(`            ${gotText(g)}`);
      for (const e of f.missing) out.push(`          - missing:    ${expectedText(e)}  (${r.file}:${e.line}:${e.col})`);
      for (const g of f.unexpected) out.push(`          + unexpected: ${gotText(g)}`);
    }
    for (const e of t.ok ? [] : t.errors) out.push(`        rule error: ${e}`);
  }
  return out;
}
