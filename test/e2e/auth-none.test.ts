/** `--auth none`: unsigned requests are served, and the server says so loudly. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startServer, tempDir } from '../helpers/server-process.js';

test('with --auth none, unsigned requests succeed and the banner warns', async () => {
  const dir = tempDir();
  try {
    const server = await startServer({ dataDir: dir.path, args: ['--auth', 'none'] });
    try {
      assert.match(server.output(), /WARNING: --auth none: requests are NOT authenticated/);
      const listed = await fetch(`${server.endpoint}/2015-03-31/functions`);
      assert.equal(listed.status, 200);
      assert.deepEqual(await listed.json(), { Functions: [] });
    } finally {
      await server.stop();
    }
  } finally {
    dir.remove();
  }
});
