import { describe, expect, it } from 'vitest';
import { levelFromOtelSeverity, normalizeLevel } from '../../src/parse/level.js';

describe('normalizeLevel', () => {
  it('maps the usual spellings, case-insensitively', () => {
    const cases: Array<[string, string]> = [
      ['debug', 'DEBUG'], ['TRACE', 'DEBUG'], ['verbose', 'DEBUG'], ['silly', 'DEBUG'],
      ['info', 'INFO'], ['Info', 'INFO'], ['NOTICE', 'INFO'], ['http', 'INFO'], ['informational', 'INFO'],
      ['warn', 'WARNING'], ['Warning', 'WARNING'], ['WARN', 'WARNING'],
      ['err', 'ERROR'], ['error', 'ERROR'], ['ERROR', 'ERROR'], ['severe', 'ERROR'],
      ['fatal', 'CRITICAL'], ['critical', 'CRITICAL'], ['crit', 'CRITICAL'], ['emerg', 'CRITICAL'], ['alert', 'CRITICAL'],
      ['panic', 'CRITICAL'], [' wArNiNg ', 'WARNING'], ['eRrOr', 'ERROR'],
    ];
    for (const [input, want] of cases) expect(normalizeLevel(input), input).toBe(want);
  });

  it('maps pino numbers, rounding values in between down', () => {
    expect(normalizeLevel(10)).toBe('DEBUG');
    expect(normalizeLevel(20)).toBe('DEBUG');
    expect(normalizeLevel(25)).toBe('DEBUG');
    expect(normalizeLevel(30)).toBe('INFO');
    expect(normalizeLevel(35)).toBe('INFO');
    expect(normalizeLevel(40)).toBe('WARNING');
    expect(normalizeLevel(49)).toBe('WARNING');
    expect(normalizeLevel(50)).toBe('ERROR');
    expect(normalizeLevel(60)).toBe('CRITICAL');
    expect(normalizeLevel(1000)).toBe('CRITICAL');
    expect(normalizeLevel(0)).toBe('DEBUG');
  });

  it('cleans unknown words and defaults empty ones to INFO', () => {
    expect(normalizeLevel('audit')).toBe('AUDIT');
    expect(normalizeLevel('  security-event  ')).toBe('SECURITYEVENT');
    expect(normalizeLevel('a'.repeat(1000))).toBe('A'.repeat(16));
    expect(normalizeLevel('<b>x</b>')).toBe('BXB');
    expect(normalizeLevel('lvl_7')).toBe('LVL_7');
    expect(normalizeLevel('')).toBe('INFO');
    expect(normalizeLevel('  ')).toBe('INFO');
    expect(normalizeLevel('💥')).toBe('INFO');
    expect(normalizeLevel(null)).toBe('INFO');
    expect(normalizeLevel({ level: 'ERROR' })).toBe('INFO');
    expect(normalizeLevel('__proto__')).toBe('__PROTO__');
    expect(normalizeLevel('constructor')).toBe('CONSTRUCTOR');
  });

  it('maps OpenTelemetry severity numbers', () => {
    expect(levelFromOtelSeverity(1)).toBe('DEBUG');
    expect(levelFromOtelSeverity(9)).toBe('INFO');
    expect(levelFromOtelSeverity(13)).toBe('WARNING');
    expect(levelFromOtelSeverity(17)).toBe('ERROR');
    expect(levelFromOtelSeverity(21)).toBe('CRITICAL');
    expect(levelFromOtelSeverity(0)).toBeUndefined();
    expect(levelFromOtelSeverity(25)).toBeUndefined();
  });
});
