import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jailPathRewriter, rewriteLaunch } from '../../src/sandbox/jail-path-map.js';

describe('jailPathRewriter', () => {
  const rewrite = jailPathRewriter([
    { inside: '/var/task', host: '/data/code/abc' },
    { inside: '/opt', host: '/data/layers/x' },
    { inside: '/var/lang', host: '/usr' },
    { inside: '/run/lamina/runtime.sock', host: '/tmp/run/envs/1/runtime.sock' },
    { inside: '127.0.0.1:9001', host: '127.0.0.1:40001' },
  ]);

  test('rewrites whole paths and what is under them', () => {
    assert.equal(rewrite('/var/task'), '/data/code/abc');
    assert.equal(rewrite('/var/task/index.mjs'), '/data/code/abc/index.mjs');
    assert.equal(rewrite('/var/lang/bin/node'), '/usr/bin/node');
    assert.equal(rewrite('/run/lamina/runtime.sock'), '/tmp/run/envs/1/runtime.sock');
  });

  test('rewrites every entry of a search path', () => {
    assert.equal(
      rewrite('/var/lang/bin:/usr/local/bin:/opt/bin'),
      '/usr/bin:/usr/local/bin:/data/layers/x/bin',
    );
    assert.equal(
      rewrite('/opt/nodejs/node_modules:/var/task'),
      '/data/layers/x/nodejs/node_modules:/data/code/abc',
    );
  });

  test('rewrites addresses, in URLs too', () => {
    assert.equal(rewrite('127.0.0.1:9001'), '127.0.0.1:40001');
    assert.equal(rewrite('http://127.0.0.1:9001/path'), 'http://127.0.0.1:40001/path');
    assert.equal(rewrite('127.0.0.1:90010'), '127.0.0.1:90010');
  });

  test('leaves paths that only begin or end alike', () => {
    assert.equal(rewrite('/var/taskforce'), '/var/taskforce');
    assert.equal(rewrite('/usr/opt/x'), '/usr/opt/x');
    assert.equal(rewrite('/optional'), '/optional');
    assert.equal(rewrite('x/var/task'), 'x/var/task');
  });

  test('rewrites paths inside a shell line', () => {
    assert.equal(rewrite('cat /var/task/a "/opt/b"'), 'cat /data/code/abc/a "/data/layers/x/b"');
    assert.equal(
      rewrite('echo $(ls /var/task) [/opt]'),
      'echo $(ls /data/code/abc) [/data/layers/x]',
    );
  });

  test('rewriteLaunch rewrites the command and every variable value, not the names', () => {
    const launch = rewriteLaunch(
      ['/var/lang/bin/node', '/var/task/index.mjs'],
      { LAMBDA_TASK_ROOT: '/var/task', '/opt': 'x' },
      rewrite,
    );
    assert.deepEqual(launch, {
      command: ['/usr/bin/node', '/data/code/abc/index.mjs'],
      env: { LAMBDA_TASK_ROOT: '/data/code/abc', '/opt': 'x' },
    });
  });

  test('no mappings: values stay', () => {
    assert.equal(jailPathRewriter([])('/var/task'), '/var/task');
  });
});
