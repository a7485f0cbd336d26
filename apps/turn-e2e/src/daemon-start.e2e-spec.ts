import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { workspaceRoot } from '@ephemeral/testing';

/**
 * tools/lib/daemon.sh, which coturn.sh, kafka.sh and netlab.sh start their
 * daemons with. A CI run once failed "turnserver exited during start-up"
 * while the turnserver was healthy: the start-up loop looked for
 * `turnserver` on the child's command line before the child had exec'd.
 * Here the child waits before its exec, so that window is wide and certain.
 */
describe('tools/lib/daemon.sh: a daemon that has not exec’d yet', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'daemon-start-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `script` in bash with daemon.sh sourced; prints what it echoes. */
  function bash(script: string): string {
    return execFileSync(
      'bash',
      [
        '-c',
        `set -euo pipefail; log() { :; }; source "${join(workspaceRoot, 'tools/lib/daemon.sh')}"; ${script}`,
      ],
      { cwd: dir, encoding: 'utf8', timeout: 20_000 },
    ).trim();
  }

  it('counts as starting, though its command line does not match yet', () => {
    const out = bash(`
      bash -c 'sleep 2; exec sleep 30' &
      echo $! > child.pid
      if daemon_pid child.pid '^sleep 30' >/dev/null; then echo pattern=matched; else echo pattern=not-yet; fi
      if daemon_starting child.pid; then echo starting=yes; else echo starting=no; fi
      kill "$(cat child.pid)"`);
    expect(out.split('\n')).toEqual(['pattern=not-yet', 'starting=yes']);
  });

  it('does not count as starting once it has exited', () => {
    const out = bash(`
      bash -c 'exit 3' &
      echo $! > child.pid
      wait "$(cat child.pid)" || true
      if daemon_starting child.pid; then echo starting=yes; else echo starting=no; fi`);
    expect(out).toBe('starting=no');
  });

  it('does not count as starting without a pid file', () => {
    expect(bash(`if daemon_starting none.pid; then echo yes; else echo no; fi`)).toBe('no');
  });
});
