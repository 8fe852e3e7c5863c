import fs from 'node:fs';

/**
 * Follows a JSON-lines file that is only appended to (the console channel's alerts file)
 * and hands over each new object. Polling: the file is small and this is a demo.
 */
export function followJsonLines(file: string, onLine: (obj: Record<string, unknown>) => void, intervalMs = 250): { stop: () => void } {
  let offset = fs.existsSync(file) ? fs.statSync(file).size : 0;
  let rest = '';
  const poll = () => {
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      return;
    }
    if (size < offset) offset = 0; // replaced or truncated
    if (size === offset) return;
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - offset);
      const n = fs.readSync(fd, buf, 0, buf.length, offset);
      offset += n;
      const text = rest + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) {
        if (l.trim() === '') continue;
        try {
          onLine(JSON.parse(l) as Record<string, unknown>);
        } catch {
          // not ours to judge: the channel wrote it
        }
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const timer = setInterval(poll, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      poll();
    },
  };
}
