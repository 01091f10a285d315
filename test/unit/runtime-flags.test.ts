/** `npm start` runs a node with the same runtime flags as a local cluster's children and the test clusters. */
import fs from 'node:fs';
import path from 'node:path';
import { NODE_RUNTIME_FLAGS } from '../../src/cli/runtime-flags';

it('package.json start script passes every runtime flag to node', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '../../package.json'), 'utf8')) as { scripts: { start: string } };
  const nodeCommand = manifest.scripts.start.split('&&').map((part) => part.trim()).find((part) => part.includes('dist/src/main.js'));
  expect(nodeCommand).toBe(`exec node ${NODE_RUNTIME_FLAGS.join(' ')} dist/src/main.js`);
});
