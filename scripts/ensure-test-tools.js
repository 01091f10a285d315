#!/usr/bin/env node
/**
 * Run first by `npm test` (and `npm run chaos`): the system tools the suite
 * needs beside Node. A missing tool is installed with apt-get when this
 * process may (root, apt-get on the PATH); otherwise the run stops at once
 * with one line naming what is missing and the command that installs it. A
 * test never skips a fault kind silently because a tool was absent.
 *
 * Node built-ins only: it runs before the dependencies are installed.
 */
'use strict';
const { execFileSync, spawnSync } = require('node:child_process');

/** Each tool, the Debian package that brings it, and what the suite does with it. */
const TOOLS = [
  { command: 'nft', args: ['--version'], package: 'nftables', why: 'network partitions in the chaos test' },
  { command: 'ip', args: ['-V'], package: 'iproute2', why: 'network namespaces for the tests of non-loopback nodes' },
  { command: 'curl', args: ['--version'], package: 'curl', why: "running the README's curl examples" },
];

/** Beyond being installed, nft must be allowed to change the firewall (root or CAP_NET_ADMIN). */
const FIREWALL_CHECK = { command: 'nft', args: ['list', 'tables'] };

function runs(command, args) {
  const result = spawnSync(command, args, { stdio: 'ignore' });
  return result.error === undefined && result.status === 0;
}

function canInstall() {
  return typeof process.getuid === 'function' && process.getuid() === 0 && runs('apt-get', ['--version']);
}

function install(packages) {
  process.stderr.write(`ddb: installing ${packages.join(', ')} with apt-get (needed by the test suite; about a minute)\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: ['ignore', 'ignore', 'inherit'], env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: ['ignore', 'ignore', 'inherit'], env });
}

function stop(line) {
  process.stderr.write(`ddb: ${line}\n`);
  process.exit(1);
}

function missingTools() {
  return TOOLS.filter((tool) => !runs(tool.command, tool.args));
}

let missing = missingTools();
if (missing.length > 0 && canInstall()) {
  try {
    install(missing.map((tool) => tool.package));
  } catch (error) {
    stop(`apt-get could not install ${missing.map((tool) => tool.package).join(' ')}: ${error.message.split('\n')[0]}`);
  }
  missing = missingTools();
}
if (missing.length > 0) {
  const names = missing.map((tool) => `${tool.command} (${tool.why})`).join(', ');
  stop(`the test suite needs ${names}; install with: sudo apt-get install -y ${missing.map((tool) => tool.package).join(' ')}`);
}
if (!runs(FIREWALL_CHECK.command, FIREWALL_CHECK.args)) {
  stop('the chaos test needs to change the firewall with nft (root or CAP_NET_ADMIN); run: sudo npm test');
}
