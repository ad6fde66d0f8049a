/** The README's architecture section lists every folder of src/, and only folders that exist. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

test('README architecture lists exactly the folders of src/', () => {
  const readme = readFileSync(`${root}README.md`, 'utf8');
  const section = /^## Architecture\n+```\n([\s\S]*?)\n```/m.exec(readme);
  assert.ok(section, 'README.md has an "## Architecture" section opening with a code block');
  const listed = [...section[1].matchAll(/^src\/([a-z0-9-]+)\//gm)].map((m) => m[1]).sort();
  const folders = readdirSync(`${root}src`, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  assert.deepEqual(listed, folders);
});
