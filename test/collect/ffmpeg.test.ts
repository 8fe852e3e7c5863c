import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it, expect } from 'vitest';
import { checkFfmpeg, ffprobeAvailable, hasVideoEncoder, probe, runJob } from '../../src/collect/ffmpeg.js';
import { hasCommand } from '../helpers/agent.js';

const hasFfmpeg = hasCommand('ffmpeg');
const hasFfprobe = hasCommand('ffprobe');
if (!hasFfmpeg) console.warn('ffmpeg is not installed on this machine (apt-get install ffmpeg): the positive ffmpeg tests are skipped');
else if (!hasFfprobe) console.warn('ffprobe is not installed: the probe test is skipped');

describe('checkFfmpeg', () => {
  it.skipIf(!hasFfmpeg)('finds the installed ffmpeg and encodes a one-second test clip', async () => {
    const r = await checkFfmpeg({ timeoutMs: 30_000 });
    expect(r.available).toBe(true);
    expect(r.version).toMatch(/^\S+$/);
    expect(r.encodeOk).toBe(true);
    expect(r.message).toMatch(/^ffmpeg \S+ encodes \(1 s test clip, \d+ bytes\)$/);
  });

  it('says clearly that a binary that does not exist is not available', async () => {
    const r = await checkFfmpeg({ ffmpegPath: '/nonexistent/bin/ffmpeg' });
    expect(r).toEqual({
      available: false,
      encodeOk: false,
      message: 'ffmpeg not found: no executable "/nonexistent/bin/ffmpeg" (install it, e.g. apt-get install ffmpeg, or set the path)',
    });
  });

  it('does not take another program for ffmpeg', async () => {
    const r = await checkFfmpeg({ ffmpegPath: '/bin/false' });
    expect(r.available).toBe(false);
    expect(r.message).toBe('-version failed (exit 1): no error output');
    const echo = await checkFfmpeg({ ffmpegPath: '/bin/echo' });
    expect(echo.available).toBe(false);
    expect(echo.message).toBe('/bin/echo -version did not print "ffmpeg version …"; is it ffmpeg? (-hide_banner -version)');
  });

  it('reports a broken build that answers -version but cannot encode (a script standing in for it)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ffmpeg-'));
    try {
      const bin = path.join(dir, 'ffmpeg');
      fs.writeFileSync(
        bin,
        '#!/bin/sh\nif [ "$2" = "-version" ]; then echo "ffmpeg version 9.9-broken Copyright"; exit 0; fi\necho "Unknown input format: \'lavfi\'" >&2\nexit 8\n',
        { mode: 0o755 },
      );
      const r = await checkFfmpeg({ ffmpegPath: bin });
      expect(r).toEqual({
        available: true,
        version: '9.9-broken',
        encodeOk: false,
        message: "ffmpeg 9.9-broken found, but the test encode failed (exit 8): Unknown input format: 'lavfi'",
      });
      // and one that hangs is killed at the deadline
      fs.writeFileSync(bin, '#!/bin/sh\nexec sleep 30\n', { mode: 0o755 });
      const hung = await checkFfmpeg({ ffmpegPath: bin, timeoutMs: 300 });
      expect(hung).toEqual({ available: false, encodeOk: false, message: '-version did not finish in time and was killed' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('hasVideoEncoder and ffprobeAvailable', () => {
  it.skipIf(!hasFfmpeg)('finds the native mpeg4 encoder of the installed ffmpeg, and no made-up one', async () => {
    expect(await hasVideoEncoder('mpeg4')).toBe(true);
    expect(await hasVideoEncoder('vigil_no_such_encoder')).toBe(false);
  });

  it.skipIf(!hasFfprobe)('finds the installed ffprobe', async () => {
    expect(await ffprobeAvailable()).toBe(true);
  });

  it('answers false, without throwing, for binaries that do not exist', async () => {
    expect(await hasVideoEncoder('mpeg4', { ffmpegPath: '/nonexistent/bin/ffmpeg' })).toBe(false);
    expect(await ffprobeAvailable({ ffprobePath: '/nonexistent/bin/ffprobe' })).toBe(false);
  });
});

describe('runJob and probe (fluent-ffmpeg)', () => {
  it.skipIf(!hasFfmpeg || !hasFfprobe)('transcodes a test clip and probes the result', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-ffmpeg-'));
    try {
      const out = path.join(dir, 'clip.mp4');
      await runJob({ input: 'testsrc=duration=1:size=128x72:rate=10', inputOptions: ['-f', 'lavfi'], outputOptions: ['-pix_fmt', 'yuv420p'], output: out, timeoutMs: 30_000 });
      const info = await probe(out);
      expect(info.streams.some((s) => s.codec_type === 'video' && s.width === 128 && s.height === 72)).toBe(true);
      expect(Number(info.format.duration)).toBeCloseTo(1, 0);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rejects a job on a missing input with ffmpeg\'s reason', async () => {
    await expect(runJob({ input: '/nonexistent/in.mp4', output: path.join(os.tmpdir(), 'never.mp4'), ffmpegPath: hasFfmpeg ? undefined : '/nonexistent/bin/ffmpeg' })).rejects.toThrow(
      hasFfmpeg ? /No such file or directory/ : /ENOENT|not found|Cannot find ffmpeg/,
    );
  });
});
