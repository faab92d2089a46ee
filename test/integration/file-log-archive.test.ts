/**
 * FileLogArchive over real files: stream files written by FileLogStore and by hand (100,000
 * lines, a half-written last line, an oversized line), paged forward and backward without loss or
 * repeat, merged across interleaved streams in time order through a cursor, filtered by time with
 * the binary search, and groups deleted, given a retention and swept; thousands of old streams
 * never opened by a filter of recent events, events not all written yet held back, streams
 * overlapping a page's start parked, and group changes run one at a time.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type {
  EventFilterRequest,
  FilterCursor,
  StoredLogEvent,
} from '../../src/monitoring/log-archive.js';
import { FileLogArchive } from '../../src/observability/file-log-archive.js';
import { FileLogStore } from '../../src/observability/file-log-store.js';
import { offsetAtTime } from '../../src/observability/log-file-lines.js';
import { logGroupFolder, logStreamFile } from '../../src/observability/log-file-names.js';
import { DAY_MS } from '../../src/monitoring/log-retention.js';
import { tempDir } from '../helpers/server-process.js';

const dir = tempDir('lamina-archive-');
after(() => dir.remove());
let folders = 0;

/** A fresh logs folder. */
function logsRoot(): string {
  const root = join(dir.path, `logs-${(folders += 1)}`);
  mkdirSync(root);
  return root;
}

/** Writes a stream file directly: one `{"t","m"}` line per event. */
function writeStream(
  root: string,
  group: string,
  stream: string,
  events: ReadonlyArray<readonly [number, string]>,
): string {
  const folder = join(root, logGroupFolder(group));
  mkdirSync(folder, { recursive: true });
  const path = join(folder, logStreamFile(stream));
  writeFileSync(path, events.map(([t, m]) => `${JSON.stringify({ t, m })}\n`).join(''));
  return path;
}

const ALL = { startMs: 0, endMs: Number.MAX_SAFE_INTEGER } as const;

describe('reading one stream', () => {
  const root = logsRoot();
  const base = 1_700_000_000_000;
  const count = 100_000;
  const events = Array.from({ length: count }, (_, i) => [base + i * 10, `line ${i}`] as const);
  const path = writeStream(root, 'big', 's', events);
  const archive = new FileLogArchive({ root });

  test('forward pages cover 100,000 events once each, and end where they began', async () => {
    let from: number | undefined;
    let seen = 0;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 100, 'paging ends');
      const read = await archive.readStream('big', 's', {
        direction: 'forward',
        from,
        ...ALL,
        limit: 7_000,
        maxBytes: 1_048_576,
      });
      assert.ok(read !== undefined);
      for (const event of read.events) {
        assert.equal(event.message, `line ${seen}`);
        seen += 1;
      }
      if (read.endOffset === from) break;
      from = read.endOffset;
    }
    assert.equal(seen, count);
    assert.equal(from, statSync(path).size);
  });

  test('backward pages from the end give the newest first pages, each in time order', async () => {
    let from: number | undefined;
    let expected = count - 1;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 100, 'paging ends');
      const read = await archive.readStream('big', 's', {
        direction: 'backward',
        from,
        ...ALL,
        limit: 9_000,
        maxBytes: 1_048_576,
      });
      assert.ok(read !== undefined);
      for (const event of [...read.events].reverse()) {
        assert.equal(event.message, `line ${expected}`);
        expected -= 1;
      }
      if (read.startOffset === from) break;
      from = read.startOffset;
    }
    assert.equal(expected, -1);
  });

  test('a page stops at about a megabyte, and a time range is found by binary search', async () => {
    const page = await archive.readStream('big', 's', {
      direction: 'forward',
      from: undefined,
      ...ALL,
      limit: 10_000,
      maxBytes: 20_000,
    });
    assert.ok(page !== undefined && page.events.length > 100 && page.events.length < 2_000);
    const ranged = await archive.readStream('big', 's', {
      direction: 'forward',
      from: undefined,
      startMs: base + 500_000,
      endMs: base + 500_100,
      limit: 10_000,
      maxBytes: 1_048_576,
    });
    assert.deepEqual(
      ranged?.events.map((e) => e.message),
      Array.from({ length: 10 }, (_, i) => `line ${50_000 + i}`),
    );
    const offset = await offsetAtTime(path, statSync(path).size, base + 123_455);
    const line = readFileSync(path)
      .subarray(offset, offset + 40)
      .toString();
    assert.match(line, new RegExp(`^\\{"t":${base + 123_460},`));
  });

  test('an unknown stream or group is undefined', async () => {
    const read = { direction: 'forward', from: undefined, ...ALL, limit: 1, maxBytes: 1 } as const;
    assert.equal(await archive.readStream('big', 'nope', read), undefined);
    assert.equal(await archive.readStream('nope', 's', read), undefined);
    assert.equal(await archive.readStream('big', '../s', read), undefined);
  });
});

test('a half-written last line and unreadable lines are passed over', async () => {
  const root = logsRoot();
  const path = writeStream(root, 'g', 's', [
    [1, 'one'],
    [2, 'two'],
  ]);
  appendFileSync(path, `garbage\n${JSON.stringify({ t: 3, m: 'x'.repeat(5 * 1024 * 1024) })}\n`);
  appendFileSync(path, `${JSON.stringify({ t: 4, m: 'four' })}\n{"t":5,"m":"fi`);
  const archive = new FileLogArchive({ root });
  const request = { ...ALL, limit: 100, maxBytes: 10 * 1024 * 1024, from: undefined } as const;
  const forward = await archive.readStream('g', 's', { ...request, direction: 'forward' });
  assert.deepEqual(
    forward?.events.map((e) => e.message),
    ['one', 'two', 'four'],
  );
  const backward = await archive.readStream('g', 's', { ...request, direction: 'backward' });
  assert.deepEqual(
    backward?.events.map((e) => e.message),
    ['one', 'two', 'four'],
  );
  // Neither read past the half line: once it is complete, a forward read from there gets it.
  assert.equal(forward?.endOffset, backward?.endOffset);
  appendFileSync(path, 've"}\n');
  const rest = await archive.readStream('g', 's', {
    ...request,
    direction: 'forward',
    from: forward?.endOffset,
  });
  assert.deepEqual(
    rest?.events.map((e) => e.message),
    ['five'],
  );
});

describe('filtering a group of interleaved streams', () => {
  const root = logsRoot();
  // Three streams whose events interleave, with ties across streams.
  const streams = {
    a: Array.from({ length: 3_000 }, (_, i) => [i * 3, `a ${i}`] as const),
    b: Array.from({ length: 3_000 }, (_, i) => [i * 3 + 1, `b ${i}`] as const),
    c: Array.from(
      { length: 2_000 },
      (_, i) => [i * 3, `c ${i}${i % 10 === 0 ? ' ERROR' : ''}`] as const,
    ),
    // A stream of other times, which the merge must not open early.
    late: [[1_000_000, 'late']] as ReadonlyArray<readonly [number, string]>,
  };
  for (const [name, events] of Object.entries(streams)) writeStream(root, 'g', name, events);
  const archive = new FileLogArchive({ root });

  async function everything(request: Partial<EventFilterRequest>, limit: number) {
    const events: StoredLogEvent[] = [];
    let after: FilterCursor | undefined;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 1_000, 'paging ends');
      const page = await archive.filterEvents('g', {
        ...ALL,
        matches: () => true,
        ...request,
        after,
        limit,
        maxBytes: 1_048_576,
      });
      assert.ok(page !== undefined);
      events.push(...page.events);
      if (page.next === undefined) return events;
      after = page.next;
    }
  }

  test('pages of any size give every event once, in time order, then stream name', async () => {
    const expected = Object.entries(streams)
      .flatMap(([stream, events]) => events.map(([t, m]) => ({ stream, t, m })))
      .sort((x, y) => x.t - y.t || (x.stream < y.stream ? -1 : x.stream > y.stream ? 1 : 0))
      .map((e) => e.m);
    for (const limit of [10_000, 997, 61])
      assert.deepEqual(
        (await everything({}, limit)).map((e) => e.message),
        expected,
        `pages of ${limit}`,
      );
  });

  test('by pattern, by stream name or prefix, and within a time range', async () => {
    const errors = await everything({ matches: (m) => m.includes('ERROR') }, 7);
    assert.deepEqual(
      errors.map((e) => e.message),
      Array.from({ length: 200 }, (_, i) => `c ${i * 10} ERROR`),
    );
    const onlyB = await everything({ streamNames: ['b'], startMs: 30, endMs: 40 }, 2);
    assert.deepEqual(
      onlyB.map((e) => e.message),
      ['b 10', 'b 11', 'b 12'],
    );
    const lateOnes = await everything({ streamPrefix: 'la' }, 10);
    assert.deepEqual(
      lateOnes.map((e) => e.stream),
      ['late'],
    );
  });
});

describe('groups, deletion and retention', () => {
  test('groups written by FileLogStore are listed in order, with their size', async () => {
    const root = logsRoot();
    const store = new FileLogStore(root);
    for (const group of ['/aws/lambda/b', '/aws/lambda/a', 'other', '../x'])
      store.append(group, '2026/01/01/[$LATEST]0123', [{ timeMs: 1, message: 'hello' }]);
    await store.flush();
    const archive = new FileLogArchive({ root });
    const all = await archive.listGroups({ limit: 50 });
    assert.deepEqual(
      all.groups.map((g) => g.name),
      ['../x', '/aws/lambda/a', '/aws/lambda/b', 'other'],
    );
    assert.ok(all.groups.every((g) => g.storedBytes > 0 && g.retentionInDays === undefined));
    const paged = await archive.listGroups({ prefix: '/aws/lambda/', limit: 1 });
    assert.deepEqual(
      paged.groups.map((g) => g.name),
      ['/aws/lambda/a'],
    );
    assert.equal(paged.more, true);
    const rest = await archive.listGroups({
      prefix: '/aws/lambda/',
      after: '/aws/lambda/a',
      limit: 1,
    });
    assert.deepEqual(
      rest.groups.map((g) => g.name),
      ['/aws/lambda/b'],
    );
    assert.equal(rest.more, false);
    assert.deepEqual(
      (await archive.listGroups({ contains: 'lambda/a', limit: 50 })).groups.map((g) => g.name),
      ['/aws/lambda/a'],
    );
  });

  test('a deleted group is gone, and comes back when its writer appends again', async () => {
    const root = logsRoot();
    // The writer keeps its stream open across the deletion, as an environment does.
    let written = () => undefined as void;
    const store = new FileLogStore(root, undefined, () => written());
    const append = (timeMs: number, message: string) =>
      new Promise<void>((resolve) => {
        written = resolve;
        store.append('g', 's', [{ timeMs, message }]);
      });
    await append(1, 'before');
    const archive = new FileLogArchive({ root });
    assert.ok(await archive.setRetention('g', 7));
    assert.equal(await archive.deleteGroup('g'), true);
    assert.equal(await archive.group('g'), undefined);
    assert.equal(await archive.deleteGroup('g'), false);
    assert.equal(await archive.setRetention('g', 7), false);
    await append(3, 'after');
    const group = await archive.group('g');
    assert.ok(group !== undefined, 'written again, the group is back');
    assert.equal(group.retentionInDays, undefined);
    const events = await archive.filterEvents('g', {
      ...ALL,
      matches: () => true,
      after: undefined,
      limit: 100,
      maxBytes: 1_000_000,
    });
    assert.deepEqual(
      events?.events.map((e) => e.message),
      ['after'],
    );
    await store.flush();
  });

  test('retention is kept in the group folder; a sweep deletes streams whose events expired', async () => {
    const root = logsRoot();
    const now = 1_800_000_000_000;
    const old = writeStream(root, 'g', 'old', [[now - 9 * DAY_MS, 'old']]);
    const mixed = writeStream(root, 'g', 'mixed', [
      [now - 9 * DAY_MS, 'old'],
      [now - DAY_MS, 'recent'],
    ]);
    const other = writeStream(root, 'h', 'old', [[now - 9 * DAY_MS, 'kept for ever']]);
    // Files nobody writes any more are removed; those that might still be written, emptied.
    const archive = new FileLogArchive({ root, writerQuietMs: 0 });
    assert.equal(await archive.setRetention('g', 7), true);
    assert.equal((await new FileLogArchive({ root }).group('g'))?.retentionInDays, 7);
    assert.deepEqual(await archive.sweep(now), { expiredStreams: 1, removedLeftovers: 0 });
    assert.equal(existsSync(old), false);
    assert.equal(existsSync(mixed), true);
    assert.equal(existsSync(other), true);
    const busy = new FileLogArchive({ root, writerQuietMs: 3_600_000 });
    assert.deepEqual(await busy.sweep(now + 7 * DAY_MS), {
      expiredStreams: 1,
      removedLeftovers: 0,
    });
    assert.equal(statSync(mixed).size, 0);
    assert.equal((await busy.group('g'))?.retentionInDays, 7, 'the group outlives its events');
    assert.deepEqual(
      (await busy.listStreams('g', { orderBy: 'LogStreamName', descending: false, limit: 50 }))
        ?.streams,
      [],
    );
    assert.equal(await archive.setRetention('g', undefined), true);
    assert.equal((await archive.group('g'))?.retentionInDays, undefined);
  });

  test('streams are listed by name or by last event, either way, in pages', async () => {
    const root = logsRoot();
    writeStream(root, 'g', 'b', [[5, 'x']]);
    writeStream(root, 'g', 'a', [
      [1, 'x'],
      [9, 'y'],
    ]);
    writeStream(root, 'g', 'c', [[7, 'x']]);
    const archive = new FileLogArchive({ root });
    const names = async (orderBy: 'LogStreamName' | 'LastEventTime', descending: boolean) => {
      const found: string[] = [];
      let after;
      for (;;) {
        const page = await archive.listStreams('g', { orderBy, descending, after, limit: 2 });
        assert.ok(page !== undefined);
        found.push(...page.streams.map((s) => s.name));
        const last = page.streams.at(-1);
        if (!page.more || last === undefined) return found;
        after = { name: last.name, lastEventMs: last.lastEventMs };
      }
    };
    assert.deepEqual(await names('LogStreamName', false), ['a', 'b', 'c']);
    assert.deepEqual(await names('LogStreamName', true), ['c', 'b', 'a']);
    assert.deepEqual(await names('LastEventTime', false), ['b', 'c', 'a']);
    assert.deepEqual(await names('LastEventTime', true), ['a', 'c', 'b']);
    const a = (
      await archive.listStreams('g', { orderBy: 'LogStreamName', descending: false, limit: 1 })
    )?.streams[0];
    assert.deepEqual(a, { name: 'a', creationTimeMs: 1, firstEventMs: 1, lastEventMs: 9 });
    assert.equal(
      await archive.listStreams('none', { orderBy: 'LogStreamName', descending: false, limit: 1 }),
      undefined,
    );
  });
});

describe('groups with many streams, and lines on their way to disk', () => {
  const EVERYTHING = {
    ...ALL,
    matches: () => true,
    after: undefined,
    limit: 10_000,
    maxBytes: 1_000_000,
  } as const;

  test('a filter of recent events opens none of 5,000 old streams; a page of names opens its own', async () => {
    const root = logsRoot();
    const now = Date.now();
    const dayAgo = now - DAY_MS;
    let oldSize = 0;
    for (let i = 0; i < 5_000; i += 1) {
      const path = writeStream(root, 'g', `old-${String(i).padStart(4, '0')}`, [
        [dayAgo, `old ${i}`],
      ]);
      utimesSync(path, dayAgo / 1000, dayAgo / 1000);
      oldSize = statSync(path).size;
    }
    const fresh = writeStream(root, 'g', 'fresh', [
      [now - 60_000, 'fresh 1'],
      [now - 30_000, 'fresh 2'],
    ]);
    const freshSize = statSync(fresh).size;
    let scanned = 0;
    const archive = new FileLogArchive({ root, onScanned: (bytes) => (scanned += bytes) });
    const tail = await archive.filterEvents('g', { ...EVERYTHING, startMs: now - 600_000 });
    assert.deepEqual(
      tail?.events.map((e) => e.message),
      ['fresh 1', 'fresh 2'],
    );
    // Its edges, the merge's first look and its read: a few times the fresh stream, no more.
    assert.ok(scanned <= 4 * freshSize, `read ${scanned} bytes`);

    scanned = 0;
    const names = new FileLogArchive({ root, onScanned: (bytes) => (scanned += bytes) });
    const page = await names.listStreams('g', {
      orderBy: 'LogStreamName',
      descending: false,
      limit: 3,
    });
    assert.deepEqual(
      page?.streams.map((s) => s.name),
      ['fresh', 'old-0000', 'old-0001'],
    );
    assert.equal(page?.more, true);
    // The page's three and the one that tells more follow, each at both ends.
    assert.ok(scanned <= 4 * 2 * Math.max(oldSize, freshSize), `read ${scanned} bytes`);
  });

  test('events from the earliest time not yet written on are held back', async () => {
    const root = logsRoot();
    let unwritten: number | undefined = 1_000;
    const archive = new FileLogArchive({ root, unwrittenSince: () => unwritten });
    // Stream a's newer line is on disk; b's older one is not yet.
    writeStream(root, 'g', 'a', [
      [500, 'a early'],
      [2_000, 'a newer'],
    ]);
    const held = await archive.filterEvents('g', EVERYTHING);
    assert.deepEqual(
      held?.events.map((e) => e.message),
      ['a early'],
    );
    assert.equal(held?.next, undefined);
    const read = await archive.readStream('g', 'a', {
      direction: 'forward',
      from: undefined,
      ...ALL,
      limit: 100,
      maxBytes: 1_000_000,
    });
    assert.deepEqual(
      read?.events.map((e) => e.message),
      ['a early'],
    );
    writeStream(root, 'g', 'b', [[1_000, 'b older']]);
    unwritten = undefined;
    assert.deepEqual(
      (await archive.filterEvents('g', { ...EVERYTHING, startMs: 500 }))?.events.map(
        (e) => e.message,
      ),
      ['a early', 'b older', 'a newer'],
    );
  });

  test('FileLogStore tells the earliest line not written until the whole batch is', async () => {
    const root = logsRoot();
    const seen: Array<number | undefined> = [];
    const store: FileLogStore = new FileLogStore(root, undefined, () =>
      seen.push(store.unwrittenSince()),
    );
    assert.equal(store.unwrittenSince(), undefined);
    store.append('g', 'a', [{ timeMs: 2_000, message: 'a newer' }]);
    store.append('g', 'b', [{ timeMs: 1_000, message: 'b older' }]);
    assert.equal(store.unwrittenSince(), 1_000);
    await store.flush();
    // After the first stream's write, and the second's: the batch is not all on disk until then.
    assert.deepEqual(seen, [1_000, 1_000]);
    assert.equal(store.unwrittenSince(), undefined);
  });

  test('300 streams overlapping a page start merge in order through pages, parked in turn', async () => {
    const root = logsRoot();
    const streams = 300;
    for (let s = 0; s < streams; s += 1)
      writeStream(
        root,
        'g',
        `s${String(s).padStart(3, '0')}`,
        Array.from({ length: 20 }, (_, i) => [1_000 + i * streams + s, `e ${i * streams + s}`]),
      );
    const archive = new FileLogArchive({ root });
    const seen: string[] = [];
    let after: FilterCursor | undefined;
    for (let pages = 0; ; pages += 1) {
      assert.ok(pages < 100, 'paging ends');
      const page = await archive.filterEvents('g', {
        ...EVERYTHING,
        startMs: 1_000 + 5 * streams,
        after,
        limit: 250,
      });
      assert.ok(page !== undefined);
      seen.push(...page.events.map((e) => e.message));
      if (page.next === undefined) break;
      after = page.next;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: 15 * streams }, (_, i) => `e ${5 * streams + i}`),
    );
  });

  test('a retention set while the group is deleted does not bring it back', async () => {
    const root = logsRoot();
    const archive = new FileLogArchive({ root, writerQuietMs: 0 });
    for (let round = 0; round < 20; round += 1) {
      writeStream(root, 'g', 's', [[1, 'x']]);
      assert.ok(await archive.setRetention('g', 7));
      const [kept, deleted] = await Promise.all([
        archive.setRetention('g', 14),
        archive.deleteGroup('g'),
      ]);
      assert.equal(kept, true, 'queued first, the retention was set before the deletion');
      assert.equal(deleted, true);
      assert.equal(await archive.group('g'), undefined, `round ${round}`);
    }
  });
});
