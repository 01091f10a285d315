/**
 * scripts/ensure-test-tools.js, the first step of `npm test`: on a machine
 * without the suite's system tools, where it cannot install them, it stops at
 * once with one line naming each tool and the command that installs it. The
 * PATH given to it holds only fake tools (and no apt-get), so these runs can
 * neither find the real tools nor install anything.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(__dirname, '..', '..', 'scripts', 'ensure-test-tools.js');

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ddb-tools-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A fake command that exits with `code`, or with `list_code` when its first argument is `list`. */
function fakeTool(name: string, code = 0, list_code = code): void {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\nif [ "$1" = list ]; then exit ${list_code}; fi\nexit ${code}\n`, { mode: 0o755 });
}

function run(): { status: number | null; stderr: string } {
  const result = spawnSync(process.execPath, [SCRIPT], { env: { PATH: dir }, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

it('stops with one line naming every missing tool and the apt-get command that installs them', () => {
  const { status, stderr } = run();
  expect(status).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toContain('nft (network partitions in the chaos test)');
  expect(stderr).toContain('curl');
  expect(stderr).toContain('install with: sudo apt-get install -y nftables iproute2 curl');
});

it('names only what is missing', () => {
  fakeTool('nft');
  fakeTool('ip');
  const { status, stderr } = run();
  expect(status).toBe(1);
  expect(stderr).toContain('sudo apt-get install -y curl\n');
  expect(stderr).not.toContain('nftables');
});

it('stops when nft is installed but may not change the firewall', () => {
  fakeTool('nft', 0, 1);
  fakeTool('ip');
  fakeTool('curl');
  const { status, stderr } = run();
  expect(status).toBe(1);
  expect(stderr).toContain('needs to change the firewall with nft');
});

it('passes when every tool is there and usable', () => {
  for (const tool of ['nft', 'ip', 'curl']) fakeTool(tool);
  expect(run()).toEqual({ status: 0, stderr: '' });
});
