import { afterEach, describe, expect, it } from 'vitest';
import { detectFormat, LIMITS, normalize } from '../../src/parse/normalize.js';

const T = '2026-11-22T10:11:12.000Z';
const TS = Date.UTC(2026, 10, 22, 10, 11, 12);
const FALLBACK = 1_700_000_000_000;
const n = (o: Record<string, unknown>) => normalize(o, FALLBACK);

describe('detectFormat', () => {
  it('tells the logger shapes apart', () => {
    expect(detectFormat({ timestamp: T, level: 'INFO', message: 'x' })).toBe('vigil');
    expect(detectFormat({ levelname: 'INFO', message: 'x' })).toBe('python');
    expect(detectFormat({ asctime: '2026-11-22 10:11:12,345', message: 'x' })).toBe('python');
    expect(detectFormat({ created: 1795342272.3, msg: 'x' })).toBe('python');
    expect(detectFormat({ level: 30, time: 1795342272345, msg: 'x' })).toBe('pino');
    expect(detectFormat({ level: 'info', time: 1795342272345, msg: 'x' })).toBe('pino');
    expect(detectFormat({ level: 'info', message: 'x', timestamp: T })).toBe('winston');
    expect(detectFormat({ level: 'error', message: 'x' })).toBe('winston');
    expect(detectFormat({ '@timestamp': T, message: 'x' })).toBe('ecs');
    expect(detectFormat({ 'log.level': 'info', message: 'x' })).toBe('ecs');
    expect(detectFormat({ log: { level: 'info' }, message: 'x' })).toBe('ecs');
    expect(detectFormat({ severity_text: 'INFO', body: 'x' })).toBe('ecs');
    expect(detectFormat({ severity_number: 9, body: 'x' })).toBe('ecs');
    expect(detectFormat({ message: 'x' })).toBe('unknown');
    expect(detectFormat({ level: 30, message: 'x' })).toBe('unknown');
    expect(detectFormat({})).toBe('unknown');
  });
});

describe('normalize field aliases', () => {
  it('reads each alias of time, level, message and logger', () => {
    expect(n({ ts: T }).ts).toBe(TS);
    expect(n({ time: TS }).ts).toBe(TS);
    expect(n({ '@timestamp': T }).ts).toBe(TS);
    expect(n({ created: TS / 1000 }).ts).toBe(TS);
    expect(n({ asctime: '2026-11-22 10:11:12,000' }).ts).toBe(new Date(2026, 10, 22, 10, 11, 12).getTime());
    expect(n({ levelname: 'WARNING' }).level).toBe('WARNING');
    expect(n({ severity: 'error' }).level).toBe('ERROR');
    expect(n({ 'log.level': 'warn' }).level).toBe('WARNING');
    expect(n({ log: { level: 'fatal' } }).level).toBe('CRITICAL');
    expect(n({ severity_text: 'Error' }).level).toBe('ERROR');
    expect(normalize({ severity_number: 13 }, 0, 'ecs').level).toBe('WARNING');
    expect(n({}).level).toBe('INFO');
    expect(n({ msg: 'hi' }).message).toBe('hi');
    expect(normalize({ body: 'otel' }, 0, 'ecs').message).toBe('otel');
    expect(normalize({ body: 'not for others' }, 0, 'vigil').message).toBe('');
    expect(n({ name: 'py' }).logger).toBe('py');
    expect(n({ logger_name: 'java' }).logger).toBe('java');
    expect(n({ 'log.logger': 'ecs' }).logger).toBe('ecs');
    expect(n({ log: { logger: 'ecs2' } }).logger).toBe('ecs2');
    expect(n({}).logger).toBe('');
    expect(n({ request_id: 'r-1' }).correlationId).toBe('r-1');
    expect(n({ correlation_id: 'c-1', request_id: 'r-1' }).correlationId).toBe('c-1');
    expect(n({ user_id: 42 }).userId).toBe('42');
  });

  it('prefers created (exact epoch) over asctime, and skips a time alias that does not parse', () => {
    expect(n({ asctime: '22/11/2026 10:11', created: TS / 1000 }).ts).toBe(TS);
    expect(n({ timestamp: 'soon', time: TS }).ts).toBe(TS);
  });

  it('looks inside extra, with the top level winning', () => {
    const e = n({
      timestamp: T,
      stage: 'upload',
      extra: { stage: 'merging', session_id: 's-9', success: 'false', duration_seconds: '7.5', level: 'error', message: 'inner' },
    });
    expect(e.stage).toBe('upload');
    expect(e.sessionId).toBe('s-9');
    expect(e.success).toBe(false);
    expect(e.durationSeconds).toBe(7.5);
    expect(e.level).toBe('ERROR');
    expect(e.message).toBe('inner');
    expect(e.repairs).toBeUndefined();
  });

  it('treats JSON null as absent, so extra can fill it', () => {
    const e = n({ timestamp: T, error: null, session_id: null, extra: { session_id: 's-1' } });
    expect(e.error).toBeUndefined();
    expect(e.sessionId).toBe('s-1');
    expect(e.repairs).toBeUndefined();
  });

  it('reads ECS/OTel attributes only for the ecs format', () => {
    expect(n({ severity_text: 'INFO', body: 'b', attributes: { session_id: 's-o' } }).sessionId).toBe('s-o');
    expect(normalize({ attributes: { session_id: 's-o' } }, 0, 'vigil').sessionId).toBeUndefined();
  });

  it('takes message, code and stack from an error object (pino err, ECS error)', () => {
    const e = n({ err: { type: 'Error', message: 'boom', code: 'FFMPEG_FAILED', stack: 'Error: boom\n at x' } });
    expect(e.error).toBe('boom');
    expect(e.errorCode).toBe('FFMPEG_FAILED');
    expect(e.stack).toBe('Error: boom\n at x');
    const ecs = n({ error: { message: 'm', stack_trace: 'st' }, error_code: 'TOP' });
    expect(ecs.errorCode).toBe('TOP');
    expect(ecs.stack).toBe('st');
    expect(n({ exc_info: 'Traceback…' }).stack).toBe('Traceback…');
    expect(n({ event: { action: 'stage_completed' } }).event).toBe('stage_completed');
  });
});

describe('normalize never throws on wrong types', () => {
  it('drops a bad value and records bad_field', () => {
    const e = n({ timestamp: T, duration_seconds: 'abc' });
    expect(e.durationSeconds).toBeUndefined();
    expect(e.repairs).toEqual(['bad_field:duration_seconds']);
  });

  it('accepts numeric strings and the usual boolean spellings', () => {
    expect(n({ duration_seconds: '12.5' }).durationSeconds).toBe(12.5);
    expect(n({ file_size_bytes: '1048576' }).fileSizeBytes).toBe(1048576);
    expect(n({ video_count: '3' }).videoCount).toBe(3);
    for (const [v, want] of [[true, true], [false, false], ['true', true], ['false', false], ['TRUE', true], [1, true], [0, false], ['1', true], ['0', false]] as const) {
      expect(n({ success: v }).success, String(v)).toBe(want);
    }
  });

  it('rejects negative, infinite and non-numeric measurements', () => {
    for (const d of [-1, -0.5, 1e400, 1e300, 'NaN', 'Infinity', '', ' ', '0x10', '1,5', [], {}, true]) {
      const e = n({ timestamp: T, duration_seconds: d });
      expect(e.durationSeconds, JSON.stringify(d)).toBeUndefined();
      expect(e.repairs).toEqual(['bad_field:duration_seconds']);
    }
    expect(n({ video_count: 2.5 }).repairs).toEqual(['missing_timestamp', 'bad_field:video_count']);
    expect(n({ file_size_bytes: -1 }).fileSizeBytes).toBeUndefined();
    expect(n({ success: 'maybe' }).repairs).toContain('bad_field:success');
    expect(n({ success: 2 }).success).toBeUndefined();
  });

  it('records bad_field for every wrongly typed field at once', () => {
    const e = n({
      timestamp: T,
      level: { x: 1 },
      message: ['a'],
      logger: false,
      event: 5,
      session_id: {},
      user_id: [],
      correlation_id: true,
      stage: 3,
      error_code: {},
      error: [],
      stack: 12,
    });
    expect(e.repairs).toEqual([
      'bad_field:level', 'bad_field:message', 'bad_field:logger', 'bad_field:event', 'bad_field:session_id',
      'bad_field:user_id', 'bad_field:correlation_id', 'bad_field:stage', 'bad_field:error', 'bad_field:error_code',
      'bad_field:stack',
    ]);
    expect(e.level).toBe('INFO');
    expect(e.message).toBe('');
    expect(e.logger).toBe('');
  });

  it('cuts strings so a hostile line cannot blow up memory or cardinality', () => {
    const e = n({
      timestamp: T,
      message: 'm'.repeat(100_000),
      session_id: 's'.repeat(10_000),
      stage: 'x'.repeat(1000),
      error_code: 'E'.repeat(1000),
      logger: 'l'.repeat(1000),
      event: 'e'.repeat(1000),
      error: 'r'.repeat(100_000),
      stack: 't'.repeat(100_000),
    });
    expect(e.message.length).toBe(LIMITS.message);
    expect(e.sessionId!.length).toBe(256);
    expect(e.stage!.length).toBe(64);
    expect(e.errorCode!.length).toBe(64);
    expect(e.logger.length).toBe(64);
    expect(e.event!.length).toBe(64);
    expect(e.error!.length).toBe(LIMITS.error);
    expect(e.stack!.length).toBe(LIMITS.stack);
    expect(e.repairs).toContain('truncated:message');
    expect(e.repairs).toContain('truncated:session_id');
  });

  it('does not split a surrogate pair when cutting', () => {
    const e = n({ stage: 'a'.repeat(63) + '😀' + 'b' });
    expect(e.stage).toBe('a'.repeat(63));
  });

  it('uses the fallback time, saying whether the time was missing or bad', () => {
    expect(n({}).ts).toBe(FALLBACK);
    expect(n({}).repairs).toEqual(['missing_timestamp']);
    expect(n({ timestamp: 1e300 }).repairs).toEqual(['bad_timestamp']);
    expect(n({ asctime: 'garbage' }).repairs).toEqual(['bad_timestamp']);
    expect(n({ timestamp: '2026-13-45' }).ts).toBe(FALLBACK);
  });
});

describe('normalize and a polluted Object.prototype', () => {
  const proto = Object.prototype as Record<string, unknown>;
  afterEach(() => {
    delete proto.success;
    delete proto.stage;
    delete proto.timestamp;
    delete proto.extra;
  });

  it('ignores inherited values, even after the code was optimized for a clean prototype', () => {
    for (let i = 0; i < 20_000; i++) normalize({ timestamp: T, level: 'INFO', message: 'warm', stage: 'upload' }, 0);
    proto.success = false;
    proto.stage = 'inherited';
    proto.timestamp = T;
    proto.extra = { session_id: 'inherited' };
    const e = normalize({ level: 'INFO', message: 'x' }, FALLBACK);
    expect(e.success).toBeUndefined();
    expect(e.stage).toBeUndefined();
    expect(e.sessionId).toBeUndefined();
    expect(e.ts).toBe(FALLBACK);
  });
});
