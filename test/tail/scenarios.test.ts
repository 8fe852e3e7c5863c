/**
 * Runs the golden rotation scenarios in fixtures/rotation/scenarios (see its README) against
 * real files: one file per edge case, its expected output inside it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Harness, lines, range, rmDir, tempDir } from './helpers.js';

const DIR = path.resolve(import.meta.dirname, '../../fixtures/rotation/scenarios');

function parseRanges(spec: string): number[] {
  return spec.split(',').flatMap((r) => {
    const [a, b] = r.split('..').map(Number);
    return range(a!, b ?? a!);
  });
}

function run(script: string): void {
  const dir = tempDir();
  const at = (f: string) => path.join(dir, f);
  const writers = new Map<string, number>();
  const options: Record<string, number> = {};
  let h: Harness | undefined;
  const harness = (): Harness => (h ??= new Harness({ inputs: [{ path: at('*.log') }], ...options }));
  let overlongs = 0;
  try {
    script.split('\n').forEach((raw, i) => {
      const text = raw.replace(/#.*/, '').trim();
      if (!text) return;
      const [cmd, ...args] = text.split(/\s+/) as [string, ...string[]];
      const where = `line ${i + 1}: ${text}`;
      const span = (s: string) => s.split('..').map(Number) as [number, number];
      switch (cmd) {
        case 'options':
          for (const kv of args) {
            const [k, v] = kv.split('=');
            options[k!] = Number(v);
          }
          break;
        case 'append': {
          const [a, b] = span(args[1]!);
          fs.appendFileSync(at(args[0]!), lines(a, b, args[2] ?? 'a'));
          break;
        }
        case 'open':
          writers.set(args[0]!, fs.openSync(at(args[1]!), 'a'));
          break;
        case 'write': {
          const [a, b] = span(args[1]!);
          fs.writeSync(writers.get(args[0]!)!, lines(a, b, args[2] ?? 'a'));
          break;
        }
        case 'close':
          fs.closeSync(writers.get(args[0]!)!);
          writers.delete(args[0]!);
          break;
        case 'rename':
          fs.renameSync(at(args[0]!), at(args[1]!));
          break;
        case 'copy':
          fs.copyFileSync(at(args[0]!), at(args[1]!));
          break;
        case 'truncate':
          fs.truncateSync(at(args[0]!), 0);
          break;
        case 'delete':
          fs.unlinkSync(at(args[0]!));
          break;
        case 'longline':
          fs.appendFileSync(at(args[0]!), `{"n":0,"tag":"long","pad":"${'L'.repeat(Number(args[1]))}`);
          break;
        case 'longline-end':
          fs.appendFileSync(at(args[0]!), `${'L'.repeat(500)}","tag":"a","n":999}\n`);
          break;
        case 'poll':
          harness().pump();
          break;
        case 'stop':
          harness().tailer.close();
          break;
        case 'restart':
          overlongs += harness().sink.overlongs.length;
          harness().sink.overlongs.length = 0;
          harness().restart();
          break;
        case 'advance':
          harness().clock += Number(args[0]);
          break;
        case 'expect': {
          const [tag, spec] = args[0]!.includes(':') ? (args[0]!.split(':') as [string, string]) : ['a', args[0]!];
          expect(harness().sink.numbers(tag), where).toEqual(parseRanges(spec));
          break;
        }
        case 'overlongs':
          expect(overlongs + harness().sink.overlongs.length, where).toBe(Number(args[0]));
          break;
        case 'streams':
          expect(harness().committed.size, where).toBe(Number(args[0]));
          break;
        default:
          throw new Error(`unknown step: ${where}`);
      }
    });
  } finally {
    for (const fd of writers.values()) fs.closeSync(fd);
    h?.close();
    rmDir(dir);
  }
}

describe('rotation scenarios', () => {
  const files = fs.readdirSync(DIR).filter((n) => n.endsWith('.scenario'));
  it('has scenarios to run', () => expect(files.length).toBeGreaterThan(5));
  for (const name of files) it(name.replace(/\.scenario$/, ''), () => run(fs.readFileSync(path.join(DIR, name), 'utf8')));
});
