import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { ConsoleChannel } from '../../src/notify/console.js';
import { tmpDir } from '../helpers/agent.js';
import { alert } from './helpers.js';

const dir = tmpDir('console');
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const clock = new ManualClock(Date.UTC(2024, 4, 1, 12, 0, 0));

describe('ConsoleChannel', () => {
  it('appends one JSON line per alert to a file', async () => {
    const path = join(dir, 'alerts.jsonl');
    const ch = new ConsoleChannel({ path }, { name: 'demo', clock });
    const a = alert({ id: 'c1' });
    const b = alert({ id: 'c2', state: 'resolved', endsAt: clock.now() });
    expect(await ch.send([a, b])).toEqual({ ok: true });
    expect(await ch.send([a])).toEqual({ ok: true });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toEqual({ at: '2024-05-01T12:00:00.000Z', channel: 'demo', ...a });
    expect(lines[1]).toMatchObject({ id: 'c2', state: 'resolved' });
    expect((await ch.healthcheck()).ok).toBe(true);
  });

  it('writes to a stream and drops resolved alerts when send_resolved is false', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ch = new ConsoleChannel({ stream: out, send_resolved: false }, { clock });
    await ch.send([alert({ id: 's1' }), alert({ id: 's2', state: 'resolved' })]);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as { id: string });
    expect(lines.map((l) => l.id)).toEqual(['s1']);
  });

  it('reports an unwritable path as a transient failure and an unhealthy channel', async () => {
    const ch = new ConsoleChannel({ path: join(dir, 'no-such-dir', 'x.jsonl') });
    expect(await ch.send([alert()])).toMatchObject({ ok: false, retry: 'transient', message: expect.stringContaining('ENOENT') });
    expect(await ch.healthcheck()).toMatchObject({ ok: false });
  });

  it('validates options', () => {
    expect(() => new ConsoleChannel({ stream: 'stdlog' as never })).toThrow(/option "stream" must be stdout or stderr/);
    expect(() => new ConsoleChannel({ path: '/tmp/x', stream: 'stdout' })).toThrow(/cannot be combined/);
  });
});
