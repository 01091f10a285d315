/** The README's table of error codes and the catalogue in utils/errors.ts stay the same list. */
import fs from 'node:fs';
import path from 'node:path';
import { ERROR_STATUS } from '../../utils/errors';

it('documents every error code with its status, and no other', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
  const documented = new Map<string, number>();
  for (const match of readme.matchAll(/^\| (\d{3}) \| ([A-Z_]+) \|/gm)) documented.set(match[2], Number(match[1]));
  expect(Object.fromEntries(documented)).toEqual(ERROR_STATUS);
});
