/**
 * Finding 10, hardening: seccomp allowed `io_uring_setup`; `/dev` and `/dev/shm` were 12 GB tmpfs
 * mounts outside EphemeralStorage; `/tmp` lived in memory, so filling it ended in an OOM kill
 * instead of ENOSPC when memory was the smaller limit. Now io_uring is denied, `/dev` is
 * read-only, `/tmp` and `/dev/shm` share one disk-backed file system of EphemeralStorage's size,
 * independent of MemorySize, as on Lambda.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { PublishLayerVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { buildZip } from '../helpers/zips.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';

const MIB = 1024 * 1024;

const PROBE = `
import ctypes, errno, os

libc = ctypes.CDLL(None, use_errno=True)

def syscall_errno(number, *args):
    if libc.syscall(number, *args) >= 0:
        return 'allowed'
    return errno.errorcode.get(ctypes.get_errno(), str(ctypes.get_errno()))

def attempt(fn):
    try:
        fn()
        return 'ok'
    except OSError as e:
        return errno.errorcode.get(e.errno, str(e.errno))

def size(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize

def handler(event, context):
    params = ctypes.create_string_buffer(120)
    return {
        'io_uring_setup': syscall_errno(425, 4, params),
        'io_uring_enter': syscall_errno(426, 0, 0, 0, 0, 0, 0),
        'io_uring_register': syscall_errno(427, 0, 0, 0, 0),
        'write_dev': attempt(lambda: open('/dev/evil', 'w').close()),
        'write_dev_null': attempt(lambda: open('/dev/null', 'w').write('x')),
        'tmp_bytes': size('/tmp'),
        'shm_bytes': size('/dev/shm'),
        'same_fs': os.stat('/tmp').st_dev == os.stat('/dev/shm').st_dev,
        'mountinfo': open('/proc/self/mountinfo').read(),
    }
`;

/** Fills /tmp (then /dev/shm) in 8 MiB writes until ENOSPC; reports what fitted. */
const FILLER = `
import errno, os

def fill(path, limit):
    chunk = b'x' * (8 * 1024 * 1024)
    written = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while written < limit:
            os.write(fd, chunk)
            written += len(chunk)
        return written, 'limit'
    except OSError as e:
        return written, errno.errorcode.get(e.errno, str(e.errno))
    finally:
        os.close(fd)

def handler(event, context):
    tmp, tmp_end = fill('/tmp/fill', 10 * 1024 ** 3)
    shm, shm_end = fill('/dev/shm/fill', 10 * 1024 ** 3)
    os.remove('/dev/shm/fill')
    os.remove('/tmp/fill')
    shm_after, _ = fill('/dev/shm/again', 64 * 1024 * 1024)
    os.remove('/dev/shm/again')
    return {'tmp': tmp, 'tmp_end': tmp_end, 'shm_while_tmp_full': shm, 'shm_end': shm_end, 'shm_after': shm_after}
`;

/** Fails if the jail's mount table shows where Lamina keeps anything on the host. */
function assertNoHostPaths(mountinfo: string): void {
  for (const secret of [dataDirOf(), `${tmpdir()}/lamina`, 'lamina-runtimes'])
    assert.ok(!mountinfo.includes(secret), `${secret} shows in:\n${mountinfo}`);
}

let dataDir = '';
const dataDirOf = () => dataDir;

describe('the jail has no io_uring, a read-only /dev, and /tmp on disk', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    dataDir = `${dir.path}/data`;
    server = await startServer({ dataDir });
    client = lambdaClient(server.endpoint);
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('io_uring is denied; /dev cannot be written; /tmp and /dev/shm are one EphemeralStorage', async () => {
    await deploy(
      client,
      'probe',
      { 'index.py': PROBE },
      {
        runtime: 'python3.11',
        handler: 'index.handler',
        ephemeralStorage: 1024,
      },
    );
    const report = (await invokeJson(client, 'probe', {})).body as Record<string, unknown>;
    assert.equal(report['io_uring_setup'], 'EPERM', JSON.stringify(report));
    assert.equal(report['io_uring_enter'], 'EPERM');
    assert.equal(report['io_uring_register'], 'EPERM');
    assert.equal(report['write_dev'], 'EROFS');
    assert.equal(report['write_dev_null'], 'ok');
    const tmpBytes = report['tmp_bytes'] as number;
    assert.ok(tmpBytes >= 1024 * MIB && tmpBytes <= 1024 * MIB + 64 * MIB, String(tmpBytes));
    assert.equal(report['same_fs'], true);
    // The mount table names no host folder of Lamina's: code, runtime and sockets are views.
    assertNoHostPaths(report['mountinfo'] as string);
  });

  test('the mount table hides host paths for specialised, cold-started and layered functions', async () => {
    const read =
      "import fs from 'node:fs'; export const handler = async () => fs.readFileSync('/proc/self/mountinfo', 'utf8');";
    await deploy(client, 'specialised', { 'index.mjs': read });
    // A variable that changes how the runtime starts: this one boots its own sandbox.
    await deploy(client, 'cold', { 'index.mjs': read }, { environment: { NODE_OPTIONS: '' } });
    const layers = await Promise.all(
      ['one', 'two'].map(async (name) => {
        const published = await client.send(
          new PublishLayerVersionCommand({
            LayerName: name,
            Content: { ZipFile: await buildZip([{ name: `${name}.txt`, content: name }]) },
          }),
        );
        return published.LayerVersionArn as string;
      }),
    );
    await deploy(client, 'layered', { 'index.mjs': read }, { layers });
    for (const name of ['specialised', 'cold', 'layered']) {
      const mountinfo = (await invokeJson(client, name, {})).body as string;
      assert.match(mountinfo, / \/var\/task .* - overlay /);
      if (name === 'layered') assert.match(mountinfo, / \/opt .* - overlay /);
      assertNoHostPaths(mountinfo);
    }
  });

  test('a 128 MB function fills its 512 MB /tmp to ENOSPC without being OOM-killed', async () => {
    await deploy(
      client,
      'filler',
      { 'index.py': FILLER },
      {
        runtime: 'python3.11',
        handler: 'index.handler',
        memorySize: 128,
        ephemeralStorage: 512,
        timeout: 120,
      },
    );
    const invoked = await invokeJson(client, 'filler', {});
    assert.equal(invoked.output.FunctionError, undefined, invoked.text);
    const report = invoked.body as Record<string, number | string>;
    assert.equal(report['tmp_end'], 'ENOSPC');
    const tmp = report['tmp'] as number;
    assert.ok(tmp >= 504 * MIB && tmp <= 520 * MIB, String(tmp));
    // /dev/shm shares the limit: nothing fits while /tmp is full, and it works once freed.
    assert.equal(report['shm_end'], 'ENOSPC');
    assert.ok((report['shm_while_tmp_full'] as number) <= 8 * MIB);
    assert.equal(report['shm_after'], 64 * MIB);
  });
});
