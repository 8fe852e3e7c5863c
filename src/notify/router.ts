/**
 * Which channels an alert goes to: the rule's own `channels` plus every matching entry of
 * `routes:` in vigil.yaml, Alertmanager style — routes are tried in order, the first match
 * stops the walk unless it says `continue: true`.
 *
 *   routes:
 *     - match: { severity: critical }
 *       channels: [pagerduty, slack]
 *     - match: { severity_at_least: warning, stage: "=~merg.*" }
 *       channels: [email]
 *       group_wait: 30s          # hold the first notification this long to group others with it
 *       repeat_interval: 12h     # re-notify a still-firing alert at most this often on these channels
 *       continue: true
 *
 * `match` keys are alert labels plus `rule` and `severity`; a value is an exact string, a list
 * (any of), or an operator prefix: "=~regex", "!~regex", "!=value". `severity_at_least` compares
 * info < warning < error < critical. A route without `match` matches everything.
 * An alert that neither its rule nor any route sends anywhere goes to every configured channel:
 * an alert that reaches nobody is the one outcome that must not happen silently.
 */
import fs from 'node:fs';
import { isMap, isSeq } from 'yaml';
import { nodeAt, YamlSource } from '../config/yaml-source.js';
import { ValidationError, type Located } from '../errors.js';
import { SEVERITIES, type Rule, type Severity } from '../rules/rule.js';
import { parseDuration } from '../util/duration.js';
import { compileMatchers, matchableLabels, type LabelMatcher, type LabelPredicate } from './silences.js';

export interface Route {
  /** Position in `routes:`. */
  index: number;
  matchers: LabelMatcher[];
  severityAtLeast?: Severity;
  channels: string[];
  continue: boolean;
  groupWaitMs?: number;
  repeatIntervalMs?: number;
}

/** One channel an alert is routed to, with the timing that applies there. */
export interface RouteTarget {
  channel: string;
  groupWaitMs: number;
  /** Set when a route throttles repeat notifications on this channel. */
  repeatIntervalMs?: number;
}

export interface RoutedAlert {
  rule: string;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
}

export interface RouterOptions {
  /** group_wait for channels reached through a rule's own `channels` or the fallback. Default 0: immediate. */
  defaultGroupWaitMs?: number;
}

/** Where a route problem points: a YAML path under the config document (at the key itself with 'key'). */
export type Locate = (path: ReadonlyArray<string | number>, message: string, which?: 'key' | 'value') => Located;

const ROUTE_KEYS = ['match', 'channels', 'continue', 'group_wait', 'repeat_interval'] as const;

export class Router {
  private readonly compiled: Array<{ route: Route; matches: LabelPredicate }>;
  private readonly channels: readonly string[];
  private readonly defaultGroupWaitMs: number;

  constructor(routes: readonly Route[], channels: readonly string[], opts: RouterOptions = {}) {
    this.compiled = routes.map((route) => ({ route, matches: compileMatchers(route.matchers) }));
    this.channels = [...channels];
    this.defaultGroupWaitMs = opts.defaultGroupWaitMs ?? 0;
  }

  /**
   * Builds the router from the loaded config (`routes` and `source`, the file it came from, so
   * problems carry file:line:col). Throws a ValidationError with every problem at once:
   * VIGIL_CHANNEL_UNKNOWN when the only faults are unconfigured channel names.
   */
  static fromConfig(config: { routes: readonly unknown[]; source: string }, channels: readonly string[], opts: RouterOptions = {}): Router {
    const { routes, problems, onlyUnknownChannels } = parseRoutes(config.routes, channels, configLocator(config.source));
    if (problems.length > 0) throw routeError(problems, onlyUnknownChannels);
    return new Router(routes, channels, opts);
  }

  /** The channels for this alert, each once, rule channels first, then routes in order. */
  route(alert: RoutedAlert, ruleChannels: readonly string[]): RouteTarget[] {
    const out = new Map<string, RouteTarget>();
    const add = (channel: string, groupWaitMs: number, repeatIntervalMs: number | undefined) => {
      if (!this.channels.includes(channel)) return; // checked at load; a reload may have removed it since
      const prev = out.get(channel);
      if (!prev) {
        const t: RouteTarget = { channel, groupWaitMs };
        if (repeatIntervalMs !== undefined) t.repeatIntervalMs = repeatIntervalMs;
        out.set(channel, t);
        return;
      }
      // Reached twice: the sooner group_wait and the looser repeat throttle win, so no path delays another.
      prev.groupWaitMs = Math.min(prev.groupWaitMs, groupWaitMs);
      if (prev.repeatIntervalMs !== undefined) {
        if (repeatIntervalMs === undefined) delete prev.repeatIntervalMs;
        else prev.repeatIntervalMs = Math.min(prev.repeatIntervalMs, repeatIntervalMs);
      }
    };
    for (const c of ruleChannels) add(c, this.defaultGroupWaitMs, undefined);
    const labels = matchableLabels(alert);
    const rank = SEVERITIES.indexOf(alert.severity);
    for (const { route, matches } of this.compiled) {
      if (route.severityAtLeast !== undefined && rank < SEVERITIES.indexOf(route.severityAtLeast)) continue;
      if (!matches(labels)) continue;
      for (const c of route.channels) add(c, route.groupWaitMs ?? this.defaultGroupWaitMs, route.repeatIntervalMs);
      if (!route.continue) break;
    }
    if (out.size === 0) for (const c of this.channels) add(c, this.defaultGroupWaitMs, undefined);
    return [...out.values()];
  }

  /**
   * Rules naming a channel that is not configured, each at the YAML node of the name (or at the
   * rule when its file cannot be read again). The rule loader does the same when it is given
   * the channel names; this covers rules loaded without them.
   */
  checkRules(rules: readonly Rule[]): Located[] {
    const problems: Located[] = [];
    const docs = new Map<string, RuleFileIndex | null>();
    for (const rule of rules) {
      rule.channels.forEach((channel, j) => {
        if (this.channels.includes(channel)) return;
        let doc = docs.get(rule.file);
        if (doc === undefined) {
          doc = RuleFileIndex.read(rule.file);
          docs.set(rule.file, doc);
        }
        const at = doc?.channelPosition(rule.name, j) ?? { line: rule.line, col: rule.col };
        problems.push({ file: rule.file, ...at, message: `rule ${rule.name}: ${unknownChannelText(channel, this.channels)}` });
      });
    }
    return problems;
  }
}

/** Throws the ValidationError for problems found by checkRules (VIGIL_CHANNEL_UNKNOWN). */
export function assertRuleChannels(router: Router, rules: readonly Rule[]): void {
  const problems = router.checkRules(rules);
  if (problems.length > 0) throw routeError(problems, true);
}

function routeError(problems: Located[], onlyUnknownChannels: boolean): ValidationError {
  const sorted = [...problems].sort((a, b) => a.line - b.line || a.col - b.col);
  return new ValidationError(onlyUnknownChannels ? 'VIGIL_CHANNEL_UNKNOWN' : 'VIGIL_CONFIG_INVALID', sorted);
}

function unknownChannelText(channel: string, known: readonly string[]): string {
  return `unknown channel "${channel}" (configured: ${known.length ? known.join(', ') : 'none'})`;
}

export interface ParsedRoutes {
  /** The valid routes (a route with a problem is left out). */
  routes: Route[];
  problems: Located[];
  /** Whether every problem is an unconfigured channel name (VIGIL_CHANNEL_UNKNOWN rather than VIGIL_CONFIG_INVALID). */
  onlyUnknownChannels: boolean;
}

/** Reads `routes:` as the config loader left it (plain data); every problem is returned, none thrown. */
export function parseRoutes(raw: unknown, channels: readonly string[], locate: Locate): ParsedRoutes {
  const problems: Located[] = [];
  let otherProblems = 0;
  const routes: Route[] = [];
  const done = (): ParsedRoutes => ({ routes, problems, onlyUnknownChannels: otherProblems === 0 });
  if (raw === undefined || raw === null) return done();
  if (!Array.isArray(raw)) {
    problems.push(locate(['routes'], 'routes must be a list of { match, channels } entries'));
    otherProblems++;
    return done();
  }
  raw.forEach((entry, i) => {
    const at = (path: Array<string | number>, message: string, which: 'key' | 'value' = 'value') => {
      otherProblems++;
      problems.push(locate(['routes', i, ...path], `routes[${i}]: ${message}`, which));
    };
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      at([], 'a route must be a mapping with "channels" and optionally "match", "continue", "group_wait", "repeat_interval"');
      return;
    }
    const r = entry as Record<string, unknown>;
    let ok = true;
    for (const key of Object.keys(r)) {
      if (!(ROUTE_KEYS as readonly string[]).includes(key)) {
        at([key], `unknown key "${key}" (known: ${ROUTE_KEYS.join(', ')})`, 'key');
        ok = false;
      }
    }
    const route: Route = { index: i, matchers: [], channels: [], continue: false };

    if (!Array.isArray(r.channels) || r.channels.length === 0) {
      at(['channels'], 'needs "channels": a non-empty list of channel names');
      ok = false;
    } else {
      r.channels.forEach((c, j) => {
        if (typeof c !== 'string' || c === '') {
          at(['channels', j], 'a channel name must be a string');
          ok = false;
        } else if (!channels.includes(c)) {
          problems.push(locate(['routes', i, 'channels', j], `routes[${i}]: ${unknownChannelText(c, channels)}`));
          ok = false;
        } else if (!route.channels.includes(c)) route.channels.push(c);
      });
    }

    if (r.continue !== undefined) {
      if (typeof r.continue !== 'boolean') {
        at(['continue'], 'continue must be true or false');
        ok = false;
      } else route.continue = r.continue;
    }
    for (const [key, field] of [['group_wait', 'groupWaitMs'], ['repeat_interval', 'repeatIntervalMs']] as const) {
      if (r[key] === undefined) continue;
      try {
        route[field] = parseDuration(r[key] as string | number);
      } catch {
        at([key], `${key} must be a duration such as 0s, 30s or 4h (got ${JSON.stringify(r[key])})`);
        ok = false;
      }
    }

    if (r.match !== undefined && r.match !== null) {
      if (typeof r.match !== 'object' || Array.isArray(r.match)) {
        at(['match'], 'match must be a mapping of label names to values, e.g. { severity: critical }');
        ok = false;
      } else {
        for (const [name, value] of Object.entries(r.match as Record<string, unknown>)) {
          const problem = addMatch(route, name, value);
          if (problem) {
            at(['match', name], problem);
            ok = false;
          }
        }
      }
    }
    if (ok) routes.push(route);
  });
  return done();
}

/** Adds one `match:` entry to the route; returns a problem text instead when it is not valid. */
function addMatch(route: Route, name: string, value: unknown): string | undefined {
  if (name === 'severity_at_least') {
    if (typeof value !== 'string' || !(SEVERITIES as readonly string[]).includes(value)) {
      return `severity_at_least must be one of ${SEVERITIES.join(', ')}`;
    }
    route.severityAtLeast = value as Severity;
    return undefined;
  }
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `"${name}" is not a label name`;
  const scalar = (v: unknown) => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (Array.isArray(value)) {
    if (value.length === 0 || !value.every(scalar)) return `${name}: a list must hold label values`;
    const values = value.map(String);
    if (name === 'severity') {
      const bad = values.find((v) => !(SEVERITIES as readonly string[]).includes(v));
      if (bad !== undefined) return `severity "${bad}" is not one of ${SEVERITIES.join(', ')}`;
    }
    route.matchers.push({ name, op: '=~', value: values.map(escapeRegex).join('|') });
    return undefined;
  }
  if (!scalar(value)) return `${name}: expected a label value, a list of values, or "=~regex"`;
  const text = String(value);
  const op = /^(=~|!~|!=)/.exec(text)?.[1] as '=~' | '!~' | '!=' | undefined;
  const matcher: LabelMatcher = op ? { name, op, value: text.slice(op.length).trim() } : { name, op: '=', value: text };
  if (matcher.op === '=~' || matcher.op === '!~') {
    try {
      new RegExp(matcher.value);
    } catch (e) {
      return `${name}: invalid regular expression: ${(e as Error).message}`;
    }
  }
  if (name === 'severity' && matcher.op === '=' && !(SEVERITIES as readonly string[]).includes(matcher.value)) {
    return `severity "${matcher.value}" is not one of ${SEVERITIES.join(', ')}`;
  }
  route.matchers.push(matcher);
  return undefined;
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Points into the config file by YAML path; without a readable file, at its top. The
 * file is read again only when a problem is to be located (the loader's parse is gone).
 */
export function configLocator(source: string): Locate {
  let src: YamlSource | null | undefined;
  return (path, message, which = 'value') => {
    if (src === undefined) {
      try {
        src = source && !source.startsWith('(') ? new YamlSource(source, fs.readFileSync(source, 'utf8')) : null;
      } catch {
        src = null;
      }
    }
    return src === null ? { file: source, line: 1, col: 1, message } : src.problem(path, message, which);
  };
}

/** A rule file re-read to point at `channels:` entries. */
class RuleFileIndex {
  private constructor(private readonly src: YamlSource) {}

  static read(file: string): RuleFileIndex | null {
    try {
      return new RuleFileIndex(new YamlSource(file, fs.readFileSync(file, 'utf8')));
    } catch {
      return null;
    }
  }

  channelPosition(rule: string, j: number): { line: number; col: number } | undefined {
    const root = this.src.doc.contents;
    const rules = nodeAt(root, ['rules']);
    if (!isSeq(rules)) return undefined;
    const i = rules.items.findIndex((item) => isMap(item) && String(item.get('name')) === rule);
    if (i < 0) return undefined;
    const node = nodeAt(root, ['rules', i, 'channels', j]);
    return node?.range ? this.src.lines.linePos(node.range[0]) : undefined;
  }
}
