import { describe, expect, it } from 'vitest';
import { CompiledCondition } from '../../src/rules/conditions.js';
import type { ConditionTree, FactUse } from '../../src/rules/rule.js';

const uses: FactUse[] = [
  { fact: 'error_rate', params: { window: 3_600_000 }, line: 1, col: 1 },
  { fact: 'total_operations', params: { window: 3_600_000 }, line: 2, col: 1 },
  { fact: 'ffmpeg_available', params: {}, line: 3, col: 1 },
];

describe('CompiledCondition', () => {
  const when: ConditionTree = {
    any: [
      { all: [{ use: 0, operator: 'greaterThan', value: 0.1 }, { use: 1, operator: 'greaterThanInclusive', value: 20 }] },
      { not: { use: 2, operator: 'equal', value: true } },
    ],
  };
  const c = new CompiledCondition('r', when, uses);

  it('decides all / any / not over the values given for this run', async () => {
    expect(await c.holds([0.2, 20, true])).toBe(true);
    expect(await c.holds([0.2, 19, true])).toBe(false);
    expect(await c.holds([0.1, 50, true])).toBe(false);
    expect(await c.holds([0, 0, false])).toBe(true);
  });

  it('treats null (no data) as not matching a numeric comparison', async () => {
    expect(await c.holds([null, 50, true])).toBe(false);
    expect(await c.holds([null, null, null])).toBe(true); // not (null === true)
  });

  it('is reusable across runs: each run sees only its own values', async () => {
    const results = await Promise.all([c.holds([0.5, 30, true]), c.holds([0, 30, true]), c.holds([0.5, 30, true])]);
    expect(results).toEqual([true, false, true]);
  });

  it('supports in / notIn and the inclusive operators', async () => {
    const inList = new CompiledCondition('r2', { all: [{ use: 1, operator: 'in', value: [0, 1, 2] }, { use: 0, operator: 'lessThanInclusive', value: 0.5 }] }, uses);
    expect(await inList.holds([0.5, 2, true])).toBe(true);
    expect(await inList.holds([0.5, 3, true])).toBe(false);
    expect(await inList.holds([0.51, 1, true])).toBe(false);
  });
});
