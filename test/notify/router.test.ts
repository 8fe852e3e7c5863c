import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ValidationError } from '../../src/errors.js';
import { assertRuleChannels, configLocator, parseRoutes, Router } from '../../src/notify/router.js';
import { loadRules } from '../../src/rules/load.js';
import { tmpDir } from '../helpers/agent.js';

const CHANNELS = ['pagerduty', 'slack', 'email', 'ops-hook'];
const dir = tmpDir('router');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function router(routesYaml: string): Router {
  const file = path.join(dir, `vigil-${Math.random().toString(36).slice(2)}.yaml`);
  fs.writeFileSync(file, `routes:\n${routesYaml}`);
  return Router.fromConfig(loadConfig({ file }), CHANNELS);
}

function problems(routesYaml: string): { code: string; lines: string[] } {
  try {
    router(routesYaml);
  } catch (e) {
    if (e instanceof ValidationError) return { code: e.code, lines: e.problems.map((p) => `${p.line}:${p.col}: ${p.message}`) };
    throw e;
  }
  throw new Error('expected a ValidationError');
}

const names = (targets: { channel: string }[]) => targets.map((t) => t.channel);
const alert = (severity: 'info' | 'warning' | 'error' | 'critical', labels: Record<string, string> = {}, rule = 'high_error_rate') => ({ rule, severity, labels });

describe('Router', () => {
  const r = router(
    [
      '  - match: { severity: critical }',
      '    channels: [pagerduty, slack]',
      '  - match: { severity: warning }',
      '    channels: [email]',
      '  - match: { stage: "=~merg.*" }',
      '    channels: [ops-hook]',
      '    continue: true',
      '  - match: { severity_at_least: error }',
      '    channels: [slack]',
      '    group_wait: 30s',
    ].join('\n') + '\n',
  );

  it('routes by severity, first match wins (critical → pagerduty + slack, warning → email)', () => {
    expect(names(r.route(alert('critical'), []))).toEqual(['pagerduty', 'slack']);
    expect(names(r.route(alert('warning'), []))).toEqual(['email']);
  });

  it('continue: true goes on to later routes; severity_at_least compares ranks; group_wait applies per route', () => {
    const t = r.route(alert('error', { stage: 'merging' }), []);
    expect(t).toEqual([
      { channel: 'ops-hook', groupWaitMs: 0 },
      { channel: 'slack', groupWaitMs: 30_000 },
    ]);
    // the regex is anchored: "emerging" does not match merg.*
    expect(names(r.route(alert('error', { stage: 'emerging' }), []))).toEqual(['slack']);
  });

  it('unions the rule channels with the routes, each channel once, the sooner group_wait winning', () => {
    expect(r.route(alert('error', {}), ['slack', 'email'])).toEqual([
      { channel: 'slack', groupWaitMs: 0 },
      { channel: 'email', groupWaitMs: 0 },
    ]);
  });

  it('sends an alert that nothing routes to every configured channel, never to nobody', () => {
    expect(names(r.route(alert('info'), []))).toEqual(CHANNELS);
    expect(names(new Router([], ['slack']).route(alert('info'), []))).toEqual(['slack']);
  });

  it('matches rule names, lists (any of), != and !~, and a route without match catches all', () => {
    const r2 = router(
      [
        '  - match: { rule: disk_full, host: [a, b] }',
        '    channels: [pagerduty]',
        '  - match: { stage: "!=upload", logger: "!~media.*" }',
        '    channels: [email]',
        '  - channels: [slack]',
      ].join('\n') + '\n',
    );
    expect(names(r2.route(alert('info', { host: 'b' }, 'disk_full'), []))).toEqual(['pagerduty']);
    expect(names(r2.route(alert('info', { host: 'c' }, 'disk_full'), []))).toEqual(['email']);
    expect(names(r2.route(alert('info', { stage: 'upload' }), []))).toEqual(['slack']);
    expect(names(r2.route(alert('info', { logger: 'media_processing' }), []))).toEqual(['slack']);
  });

  it('carries a route repeat_interval to its channels', () => {
    const r3 = router('  - match: { severity: critical }\n    channels: [pagerduty]\n    repeat_interval: 12h\n');
    expect(r3.route(alert('critical'), [])).toEqual([{ channel: 'pagerduty', groupWaitMs: 0, repeatIntervalMs: 12 * 3_600_000 }]);
  });

  it('reports an unknown channel at its file:line:col with VIGIL_CHANNEL_UNKNOWN', () => {
    const p = problems('  - match: { severity: critical }\n    channels: [pagerduty, pagerdoody]\n');
    expect(p.code).toBe('VIGIL_CHANNEL_UNKNOWN');
    expect(p.lines).toEqual(['3:27: routes[0]: unknown channel "pagerdoody" (configured: pagerduty, slack, email, ops-hook)']);
  });

  it('reports every malformed route at once, located (VIGIL_CONFIG_INVALID)', () => {
    const p = problems(
      [
        '  - match: { severity: urgent }',
        '    channels: [slack]',
        '  - match: { stage: "=~(" }',
        '    channels: slack',
        '  - channels: [email]',
        '    group_wait: soon',
        '    contine: true',
      ].join('\n') + '\n',
    );
    expect(p.code).toBe('VIGIL_CONFIG_INVALID');
    expect(p.lines).toEqual([
      expect.stringMatching(/^2:24: routes\[0\]: severity "urgent" is not one of info, warning, error, critical$/),
      expect.stringMatching(/^4:21: routes\[1\]: stage: invalid regular expression/),
      expect.stringMatching(/^5:15: routes\[1\]: needs "channels"/),
      expect.stringMatching(/^7:17: routes\[2\]: group_wait must be a duration/),
      expect.stringMatching(/^8:5: routes\[2\]: unknown key "contine"/),
    ]);
  });

  it('locates problems at 1:1 when the config text is not at hand', () => {
    const out = parseRoutes([{ channels: ['nope'] }], CHANNELS, configLocator('(defaults)'));
    expect(out.problems).toEqual([{ file: '(defaults)', line: 1, col: 1, message: expect.stringContaining('unknown channel "nope"') }]);
    expect(out.onlyUnknownChannels).toBe(true);
    expect(out.routes).toEqual([]);
  });

  it('reports a rule naming an unconfigured channel at the name in its rule file', () => {
    const rules = path.join(dir, 'rules.yaml');
    fs.writeFileSync(
      rules,
      [
        'rules:',
        '  - name: high_error_rate',
        '    when: { all: [ { fact: error_rate, params: { window: 1h }, operator: greaterThan, value: 0.1 } ] }',
        '    severity: error',
        '    channels: [slack, sms]',
        '    summary: "Error rate {{ error_rate | percent }}"',
      ].join('\n') + '\n',
    );
    const loaded = loadRules([rules]);
    const r4 = new Router([], CHANNELS);
    expect(r4.checkRules(loaded)).toEqual([{ file: rules, line: 5, col: 23, message: 'rule high_error_rate: unknown channel "sms" (configured: pagerduty, slack, email, ops-hook)' }]);
    expect(() => assertRuleChannels(r4, loaded)).toThrow(expect.objectContaining({ code: 'VIGIL_CHANNEL_UNKNOWN' }));
  });
});
