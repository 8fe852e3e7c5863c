import { describe, expect, it } from 'vitest';
import { keysNeedingRestart } from '../src/agent.js';
import { parseConfigText } from '../src/config/load.js';

const cfg = (text: string) => parseConfigText(text, '/etc/vigil/vigil.yaml', {});

describe('keysNeedingRestart (what SIGHUP reports it could not apply)', () => {
  it('names every changed setting that only a restart applies, and none that reload() applies', () => {
    const running = cfg('channels:\n  console: {}\n');
    const reloadable = cfg('channels:\n  console: {}\n  pager: { type: console }\nroutes: [{ match: { severity: critical }, channels: [pager] }]\napi: { tokens: ["t0k3n-abcdefghijklmnop"] }\nnotify: { group_wait: 30s }\n');
    expect(keysNeedingRestart(reloadable, running)).toEqual([]);
    const restart = cfg(
      'evaluation_interval: 30s\nwatch: { poll_interval: 1s }\nsessions: { abandon_after: 2h }\nretention: { windows: 3d }\napi: { listen: "127.0.0.1:9000" }\nnotify: { max_age: 1h }\nstate_dir: /srv/vigil\n',
    );
    expect(keysNeedingRestart(restart, running).sort()).toEqual(
      ['api.listen', 'evaluation_interval', 'notify.max_age/rate_limits', 'retention', 'sessions', 'state_dir', 'watch'].sort(),
    );
  });
});
