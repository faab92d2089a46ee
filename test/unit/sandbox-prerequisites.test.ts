/** The server refuses to start without its sandbox, saying how to install what is missing. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSandboxPrerequisites } from '../../src/server/sandbox-prerequisites.js';
import { tempDir } from '../helpers/server-process.js';

test('a missing bubblewrap stops the start with the install command', () => {
  const dir = tempDir();
  try {
    assert.throws(
      () => checkSandboxPrerequisites(dir.path, [['/nonexistent/bwrap', 'bubblewrap']]),
      /cannot start without: bubblewrap\.\nInstall with: sudo apt-get install -y bubblewrap/,
    );
    assert.doesNotThrow(() => checkSandboxPrerequisites(dir.path, []));
  } finally {
    dir.remove();
  }
});
