#!/usr/bin/env node
/**
 * Run before `npm start` and `npm test`: on a fresh clone installs the
 * dependencies (from package-lock.json) and compiles to dist/, and afterwards
 * only rebuilds when a source file is newer than the build. Node built-ins only:
 * nothing else is installed yet when it runs.
 */
'use strict';
const { execSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const SOURCE_DIRS = ['src', 'handlers', 'database', 'utils', 'test', 'scripts'];
const BUILD_STAMP = path.join(root, 'dist', '.build-stamp');

/** Runs a step, saying first what it does and about how long it takes, and after how long it took. */
function run(command, what) {
  process.stderr.write(`ddb: ${what} (${command})\n`);
  const started = Date.now();
  execSync(command, { cwd: root, stdio: ['ignore', process.stderr, process.stderr] });
  process.stderr.write(`ddb: done in ${Math.round((Date.now() - started) / 1000)} s\n`);
}

function newestSourceMs(dir) {
  let newest = 0;
  if (!fs.existsSync(dir)) return newest;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSourceMs(full));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/**
 * Installed from this very package-lock.json: the install leaves the lock
 * file's hash in node_modules. Content, not modification times: a fresh
 * checkout (or a git worktree sharing node_modules) has new times and the
 * same lock, and must not reinstall.
 */
const INSTALL_STAMP = path.join(root, 'node_modules', '.ddb-installed-lock-sha256');

function lockHash() {
  return require('node:crypto').createHash('sha256').update(fs.readFileSync(path.join(root, 'package-lock.json'))).digest('hex');
}

function dependenciesInstalled() {
  if (!fs.existsSync(path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) return false;
  return fs.existsSync(INSTALL_STAMP) && fs.readFileSync(INSTALL_STAMP, 'utf8') === lockHash();
}

function buildIsCurrent() {
  if (!fs.existsSync(BUILD_STAMP)) return false;
  const builtMs = fs.statSync(BUILD_STAMP).mtimeMs;
  const inputs = [...SOURCE_DIRS.map((dir) => newestSourceMs(path.join(root, dir))), fs.statSync(path.join(root, 'tsconfig.json')).mtimeMs];
  return Math.max(...inputs) <= builtMs;
}

if (!dependenciesInstalled()) {
  run('npm ci --no-audit --no-fund', 'first run: installing the dependencies; compiling the SQLite driver takes about 2-3 minutes');
  // npm may skip install scripts it has not been told to allow; the SQLite
  // driver is then installed without its compiled addon. Build it explicitly.
  if (!fs.existsSync(path.join(root, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))) {
    run('npm rebuild better-sqlite3', 'compiling the SQLite driver, about 2-3 minutes');
  }
  fs.writeFileSync(INSTALL_STAMP, lockHash());
}
if (!buildIsCurrent()) {
  run('npx tsc -p tsconfig.json', 'compiling the TypeScript sources to dist/, about 30 s');
  fs.writeFileSync(BUILD_STAMP, new Date().toISOString());
}
