import { describe, expect, it } from 'vitest';
import { compileTemplate, formatBytes, formatPercent, formatSeconds, renderTemplate, type TemplateData } from '../../src/rules/template.js';

const names = { facts: ['error_rate', 'p95_duration', 'total_operations'], labels: ['stage', 'team'] };
const data: TemplateData = {
  rule: 'high_error_rate',
  severity: 'error',
  value: 0.123,
  values: { error_rate: 0.123, p95_duration: 303, total_operations: null },
  labels: { stage: 'merging', team: 'media' },
};

function render(src: string, d: TemplateData = data): string {
  const { template, problems } = compileTemplate(src, names);
  expect(problems).toEqual([]);
  return renderTemplate(template, d);
}

describe('formatters', () => {
  it('percent', () => {
    expect(formatPercent(0.123)).toBe('12.3%');
    expect(formatPercent(0.1)).toBe('10%');
    expect(formatPercent(1)).toBe('100%');
    expect(formatPercent(0.00049)).toBe('0%');
  });
  it('duration (seconds)', () => {
    expect(formatSeconds(303)).toBe('5m 3s');
    expect(formatSeconds(0)).toBe('0s');
    expect(formatSeconds(0.25)).toBe('250ms');
    expect(formatSeconds(3600)).toBe('1h');
    expect(formatSeconds(90061)).toBe('1d 1h 1m 1s');
    expect(formatSeconds(-61)).toBe('-1m 1s');
  });
  it('bytes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(1.5 * 1024 ** 3)).toBe('1.5 GiB');
    expect(formatBytes(1024 ** 2)).toBe('1 MiB');
  });
});

describe('renderTemplate', () => {
  it('renders facts, labels, value, rule and severity through formatters', () => {
    expect(render('Error rate {{ error_rate | percent }} on {{ stage }}/{{ labels.team | upper }}')).toBe('Error rate 12.3% on merging/MEDIA');
    expect(render('{{rule}} {{ severity|upper }} {{ value | round(2) }} {{ p95_duration | duration }}')).toBe('high_error_rate ERROR 0.12 5m 3s');
    expect(render('{{ p95_duration | round }} {{ error_rate }}')).toBe('303 0.123');
    expect(render('{{ stage | upper | lower }}')).toBe('merging');
  });

  it('renders a missing or null value as n/a and never throws', () => {
    expect(render('{{ total_operations }} ops, {{ total_operations | percent }}')).toBe('n/a ops, n/a');
    const empty: TemplateData = { rule: 'r', severity: 'info', value: null, values: {}, labels: {} };
    expect(render('{{ value | duration }} {{ error_rate | percent }} {{ stage }}', empty)).toBe('n/a n/a n/a');
    expect(render('{{ value | bytes }}', { ...empty, value: Number.NaN })).toBe('n/a');
    // a numeric formatter on text passes it through
    expect(render('{{ stage | percent }}')).toBe('merging');
    expect(render('{{ value | upper }}', { ...empty, value: true })).toBe('TRUE');
  });

  it('keeps text without placeholders as it is', () => {
    expect(render('plain text, } and { too')).toBe('plain text, } and { too');
  });
});

describe('compileTemplate problems', () => {
  it('reports every unknown name and formatter with its offset, in one pass', () => {
    const src = 'A {{ eror_rate | percent }} B {{ error_rate | percnt }} C {{ labels.tem }} D {{ upper(2) }}';
    const { problems } = compileTemplate(src, names);
    expect(problems.map((p) => [src.slice(p.offset, p.offset + p.length), p.message])).toEqual([
      ['eror_rate', expect.stringContaining('unknown name "eror_rate" (did you mean "error_rate"?)')],
      ['percnt', expect.stringContaining('unknown formatter "percnt" (did you mean "percent"?)')],
      ['tem', expect.stringContaining('unknown label "tem" (did you mean "team"?)')],
      ['upper(2)', expect.stringContaining('bad expression')],
    ]);
  });

  it('rejects an unclosed placeholder, an empty one, a formatter argument where none is taken and a bad round()', () => {
    const msgs = (s: string) => compileTemplate(s, names).problems.map((p) => p.message);
    expect(msgs('x {{ value')).toEqual(['template: "{{" is never closed with "}}"']);
    expect(msgs('{{ }}')).toEqual(['template: empty expression in "{{ }}"']);
    expect(msgs('{{ value | percent(2) }}')).toEqual(['template: formatter "percent" takes no argument']);
    expect(msgs('{{ value | round(11) }}')).toEqual(['template: round(11): digits must be 0–10']);
    expect(msgs('{{ value | 3 }}')[0]).toMatch(/bad formatter "3"/);
  });

  it('does not accept a registered fact the rule does not use', () => {
    const { problems } = compileTemplate('{{ cpu_usage_percent }}', names);
    expect(problems[0]!.message).toMatch(/unknown name "cpu_usage_percent"/);
  });
});
