import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_SCHEMA } from '../../src/config/schema.js';
import { FACTS } from '../../src/rules/facts.js';

const DOC = fs.readFileSync(path.resolve(import.meta.dirname, '../../docs/operators.md'), 'utf8');
const rows = (section: string) => {
  const start = DOC.indexOf(`\n${section}\n`);
  const end = DOC.indexOf('\n#', start + 1); // the next heading of any level
  return DOC.slice(start, end).split('\n').filter((l) => l.startsWith('| `'));
};

/** Dotted keys of the schema: inputs[].path, api.listen, … (channels and routes are free-form maps/lists). */
function schemaKeys(props: Record<string, any>, prefix = ''): string[] {
  return Object.entries(props).flatMap(([k, v]) => {
    const key = prefix + k;
    if (v.type === 'object' && v.properties) return schemaKeys(v.properties, `${key}.`);
    if (v.type === 'array' && v.items?.properties) return [key, ...schemaKeys(v.items.properties, `${key}[].`)];
    return [key];
  });
}

describe('docs/operators.md stays in step with the code', () => {
  it('the configuration reference has a row for every key of the config schema', () => {
    const documented = new Set(rows('## Configuration reference').map((l) => /^\| `([^`]+)`/.exec(l)![1]!));
    const keys = schemaKeys(CONFIG_SCHEMA.properties as Record<string, any>);
    expect(keys.length).toBeGreaterThan(25);
    expect(keys.filter((k) => !documented.has(k))).toEqual([]);
    expect([...documented].filter((k) => !keys.includes(k))).toEqual([]);
  });

  it('the fact table lists every fact with each of its params', () => {
    const table = rows('### Facts');
    for (const [name, spec] of FACTS) {
      const row = table.find((l) => l.startsWith(`| \`${name}\` |`));
      expect(row, `fact ${name}`).toBeDefined();
      for (const p of Object.keys(spec.params)) {
        // backup_age_seconds says "same as backup_present"
        if (!row!.includes('same as')) expect(row, `${name}.${p}`).toContain(`\`${p}\``);
      }
    }
    expect(table).toHaveLength(FACTS.size);
  });
});
