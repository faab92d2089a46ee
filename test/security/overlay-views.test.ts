/**
 * Directory views (finding 10: `/proc/self/mountinfo` showed host paths): a view is an overlay of
 * its own on a folder, so a jail's bind of it shows `/` and a relative `lowerdir`, not where the
 * folder is on the host. Real mounts, as root.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { IDLE_VIEWS, OverlayViews } from '../../src/sandbox/overlay-views.js';
import { poll } from '../helpers/poll.js';

function mountsUnder(root: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((line) => line.split(' ')[4]?.startsWith(`${root}/`));
}

describe('overlay views', () => {
  let root: string;
  let views: OverlayViews;

  before(() => {
    assert.equal(process.getuid?.(), 0, 'views need root (mounts)');
    root = mkdtempSync(join(tmpdir(), 'views-test-'));
    mkdirSync(join(root, 'views'));
    views = new OverlayViews(join(root, 'views'));
  });

  after(async () => {
    await views.close();
    rmSync(root, { recursive: true, force: true });
  });

  test('a view shows the folder, read-only, with no host path in its mount', async () => {
    const dir = join(root, 'trees', 'abc123');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'index.js'), 'hello');
    const view = await views.acquire(dir);
    assert.equal(readFileSync(join(view.path, 'index.js'), 'utf8'), 'hello');
    assert.throws(() => writeFileSync(join(view.path, 'x'), 'x'), /EROFS/);
    const [line = ''] = mountsUnder(join(root, 'views')).filter((l) => l.includes(view.path));
    const fields = line.split(' ');
    assert.equal(fields[3], '/');
    assert.match(line, / - overlay overlay ro,lowerdir=abc123:\.empty/);
    assert.ok(!line.slice(line.indexOf(' - ')).includes(root), line);
    // Files linked into the folder after the view was made show through it (pre-started slots).
    writeFileSync(join(dir, 'late.js'), 'late');
    assert.equal(readFileSync(join(view.path, 'late.js'), 'utf8'), 'late');
    view.release();
  });

  test('a view is reused while its folder is the same one, and remade when it was replaced', async () => {
    const dir = join(root, 'trees', 'def456');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'v'), '1');
    const first = await views.acquire(dir);
    first.release();
    const again = await views.acquire(dir);
    assert.equal(again.path, first.path);
    again.release();
    rmSync(dir, { recursive: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'v'), '2');
    const remade = await views.acquire(dir);
    assert.notEqual(remade.path, first.path);
    assert.equal(readFileSync(join(remade.path, 'v'), 'utf8'), '2');
    await poll(
      () => Promise.resolve(mountsUnder(join(root, 'views')).filter((l) => l.includes(first.path))),
      (left) => left.length === 0,
      10_000,
      'the replaced folder’s view unmounted',
    );
    remade.release();
  });

  test(`at most ${IDLE_VIEWS} unused views stay mounted; closing unmounts them all`, async () => {
    for (let i = 0; i < IDLE_VIEWS + 6; i += 1) {
      const dir = join(root, 'many', `t${i}`);
      mkdirSync(dir, { recursive: true });
      (await views.acquire(dir)).release();
    }
    // Trimming unmounts in the background as views are released.
    await poll(
      () => Promise.resolve(mountsUnder(join(root, 'views')).length),
      (mounted) => mounted <= IDLE_VIEWS,
      10_000,
      'unused views trimmed',
    );
    await views.close();
    assert.deepEqual(mountsUnder(join(root, 'views')), []);
  });
});
