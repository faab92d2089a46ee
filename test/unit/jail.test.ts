/** The jail's command line and seccomp program. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { jailArguments, jailScript, SHM_FALLBACK_BYTES } from '../../src/sandbox/jail-arguments.js';
import { buildSeccompFilter, DENIED_X86_64 } from '../../src/sandbox/seccomp-filter.js';

const plan = {
  layout: {
    symlinks: { '/bin': 'usr/bin', '/lib': 'usr/lib' },
    directories: [],
    etcEntries: ['/etc/ssl'],
  },
  codeDir: '/data/code/trees/abc',
  runtimeDir: '/run/x/runtimes/nodejs',
  langDir: '/usr',
  etcFds: { passwd: 8, group: 9, hosts: 10, 'resolv.conf': 11 },
  runtimeApiSocket: '/run/x/envs/1/runtime.sock',
  laminaApiSocket: '/run/x/api.sock',
  ephemeralStorageBytes: 512 * 1024 * 1024,
  jailUid: 993,
  jailGid: 993,
  seccompFd: 3,
  command: ['/var/lang/bin/node', '/var/runtime/index.mjs'],
};

function after(args: string[], flag: string, value?: string): string[] {
  const at = args.findIndex((a, i) => a === flag && (value === undefined || args[i + 1] === value));
  assert.ok(at >= 0, `${flag} ${value ?? ''} missing`);
  return args.slice(at + 1, at + 3);
}

describe('jail arguments', () => {
  const args = jailArguments(plan);

  test('all namespaces, no capabilities, an unprivileged uid', () => {
    for (const flag of [
      '--unshare-user',
      '--unshare-ipc',
      '--unshare-pid',
      '--unshare-net',
      '--unshare-uts',
    ]) {
      assert.ok(args.includes(flag), flag);
    }
    assert.deepEqual(after(args, '--cap-drop'), ['ALL', '--ro-bind']);
    assert.equal(after(args, '--uid')[0], '993');
    assert.ok(args.includes('--die-with-parent'));
    assert.equal(after(args, '--seccomp')[0], '3');
  });

  test('/opt is an empty folder without layers, the merged layers read-only with them', () => {
    assert.deepEqual(after(args, '--dir'), ['/opt', '--ro-bind']);
    const withLayers = jailArguments({ ...plan, optDir: '/data/code/merged/k' });
    assert.deepEqual(after(withLayers, '--ro-bind', '/data/code/merged/k'), [
      '/data/code/merged/k',
      '/opt',
    ]);
    assert.ok(!withLayers.includes('--dir'));
    assert.deepEqual(after(withLayers, '--symlink', '/opt/nodejs/node_modules'), [
      '/opt/nodejs/node_modules',
      '/var/node_modules',
    ]);
  });

  test('code read-only at /var/task, /tmp capped, root remounted read-only after every mount', () => {
    assert.deepEqual(after(args, '--ro-bind', '/data/code/trees/abc'), [
      '/data/code/trees/abc',
      '/var/task',
    ]);
    const sized = (bytes: number) => {
      const at = args.indexOf(String(bytes));
      return args.slice(at - 1, at + 3);
    };
    assert.deepEqual(sized(512 * 1024 * 1024), ['--size', '536870912', '--tmpfs', '/tmp']);
    assert.deepEqual(sized(SHM_FALLBACK_BYTES), ['--size', '67108864', '--tmpfs', '/dev/shm']);
    // /dev keeps its device nodes but nothing can be written into it.
    assert.equal(after(args, '--remount-ro', '/dev')[0], '/dev');
    const remount = args.lastIndexOf('--remount-ro');
    const lastMount = Math.max(
      ...args.map((a, i) =>
        a.startsWith('--ro-bind') || a === '--tmpfs' || a === '--symlink' ? i : -1,
      ),
    );
    assert.ok(remount > lastMount);
    assert.deepEqual(args.slice(-3), [
      'lamina-init',
      '/var/lang/bin/node',
      '/var/runtime/index.mjs',
    ]);
  });

  test('with an ephemeral file system, /tmp and /dev/shm are its two folders', () => {
    const withDisk = jailArguments({
      ...plan,
      ephemeral: { tmpDir: '/run/x/eph/1/tmp', shmDir: '/run/x/eph/1/shm' },
    });
    assert.deepEqual(after(withDisk, '--bind', '/run/x/eph/1/tmp'), ['/run/x/eph/1/tmp', '/tmp']);
    assert.deepEqual(after(withDisk, '--bind', '/run/x/eph/1/shm'), [
      '/run/x/eph/1/shm',
      '/dev/shm',
    ]);
    assert.equal(withDisk.indexOf('--tmpfs'), -1);
  });

  test('the generated /etc files are copied in from descriptors, not bound from a host path', () => {
    assert.deepEqual(after(args, '--ro-bind-data', '8'), ['8', '/etc/passwd']);
    assert.deepEqual(after(args, '--ro-bind-data', '9'), ['9', '/etc/group']);
    assert.deepEqual(after(args, '--ro-bind-data', '10'), ['10', '/etc/hosts']);
  });

  test('only this environment’s Runtime API socket is mounted', () => {
    assert.deepEqual(after(args, '--ro-bind', plan.runtimeApiSocket), [
      plan.runtimeApiSocket,
      '/run/lamina/runtime.sock',
    ]);
    assert.equal(args.filter((a) => a.endsWith('runtime.sock')).length, 2);
  });

  test('the script relays before it execs the runtime', () => {
    const script = jailScript(true);
    assert.match(
      script,
      /TCP-LISTEN:9001,bind=127\.0\.0\.1.*UNIX-CONNECT:\/run\/lamina\/runtime\.sock .*&$/m,
    );
    assert.match(
      script,
      /TCP-LISTEN:9002,bind=127\.0\.0\.1.*UNIX-CONNECT:\/run\/lamina\/api\.sock .*&$/m,
    );
    // The script waits for the Runtime API relay by connecting to it (retrying), never by spinning.
    assert.match(script, /^socat -u .*TCP:127\.0\.0\.1:9001,retry=\d+,interval=0\.001/m);
    assert.doesNotMatch(script, /do :; done/);
    assert.ok(script.indexOf('TCP:127.0.0.1:9001,retry') < script.indexOf('exec "$@"'));
    assert.doesNotMatch(jailScript(false), /9002/);
  });

  test('external extensions start after the relays and before the runtime, which waits for its go', () => {
    const script = jailScript(true);
    const relayReady = script.indexOf('TCP:127.0.0.1:9001,retry');
    const extensions = script.indexOf("for f in '/opt/extensions'/*");
    const gate = script.indexOf('read _ <&6');
    assert.ok(relayReady < extensions && extensions < gate);
    assert.ok(gate < script.indexOf('exec "$@"'));
    // Extensions do not see the runtime's private variables, and their output has its own pipe.
    assert.match(script, /unset [^;]*\b_HANDLER\b[^;]*; "\$f" >&7 2>&7/);
    assert.match(script, /echo "exit \$e \$\?" >&5/);
  });

  test('inbound tunnels connect out to the platform socket, bound read-only, when one is given', () => {
    const script = jailScript(true, true);
    const tunnels = script.match(/UNIX-CONNECT:\/run\/lamina\/inbound\.sock /g) ?? [];
    assert.equal(tunnels.length, 1);
    assert.doesNotMatch(script, /UNIX-LISTEN/);
    assert.doesNotMatch(jailScript(true, false), /inbound/);
    const withInbound = jailArguments({ ...plan, inboundSocket: '/run/x/envs/1/inbound.sock' });
    assert.deepEqual(after(withInbound, '--ro-bind', '/run/x/envs/1/inbound.sock'), [
      '/run/x/envs/1/inbound.sock',
      '/run/lamina/inbound.sock',
    ]);
    // No host folder is ever bound writable into the jail.
    assert.equal(withInbound.indexOf('--bind'), -1);
  });
});

describe('seccomp program', () => {
  const program = buildSeccompFilter();
  const instructions = Array.from({ length: program.length / 8 }, (_, i) => ({
    code: program.readUInt16LE(i * 8),
    jt: program.readUInt8(i * 8 + 2),
    jf: program.readUInt8(i * 8 + 3),
    k: program.readUInt32LE(i * 8 + 4),
  }));

  test('checks the architecture first and ends with return instructions', () => {
    assert.deepEqual(instructions[0], { code: 0x20, jt: 0, jf: 0, k: 4 });
    assert.equal(instructions[1]?.k, 0xc000003e);
    assert.equal(instructions.at(-1)?.k, 0x80000000);
  });

  test('every denied syscall jumps to the EPERM return', () => {
    const eperm = instructions.findIndex((ins) => ins.code === 0x06 && ins.k === 0x00050001);
    for (const nr of Object.values(DENIED_X86_64)) {
      const at = instructions.findIndex((ins) => ins.code === 0x15 && ins.k === nr);
      assert.ok(at > 0, `syscall ${nr}`);
      assert.equal(at + 1 + (instructions[at]?.jt ?? 0), eperm, `syscall ${nr} target`);
    }
  });
});

describe("the jail's network", () => {
  test('in a namespace the platform made, bubblewrap makes no network namespace of its own', () => {
    assert.ok(jailArguments(plan).includes('--unshare-net'));
    const own = jailArguments({ ...plan, ownNetwork: true });
    assert.ok(!own.includes('--unshare-net'));
    assert.ok(own.includes('--unshare-user') && own.includes('--unshare-pid'));
  });

  test('/etc/resolv.conf is the generated one', () => {
    assert.deepEqual(after(jailArguments(plan), '--ro-bind-data', '11'), [
      '11',
      '/etc/resolv.conf',
    ]);
  });

  test('each allow-listed host service is a socket bound in and a listener on 127.0.0.2', () => {
    const args = jailArguments({
      ...plan,
      hostServices: [{ port: 5432, socket: '/run/x/envs/1/host-5432.sock' }],
    });
    assert.deepEqual(after(args, '--ro-bind', '/run/x/envs/1/host-5432.sock'), [
      '/run/x/envs/1/host-5432.sock',
      '/run/lamina/host-5432.sock',
    ]);
    const script = args[args.indexOf('lamina-init') - 1] ?? '';
    assert.match(
      script,
      /TCP-LISTEN:5432,bind=127\.0\.0\.2,reuseaddr,fork UNIX-CONNECT:\/run\/lamina\/host-5432\.sock/,
    );
    assert.doesNotMatch(jailScript(true), /127\.0\.0\.2/);
  });
});

describe("an image function's jail", () => {
  const image = {
    ...plan,
    layout: {
      ...plan.layout,
      loader: {
        path: '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2',
        libraryPath: '/usr/lib/x86_64-linux-gnu',
      },
    },
    runtimeDir: undefined,
    langDir: undefined,
    rootDir: '/data/images/images/abc/rootfs',
    workingDirectory: '/app',
    command: ['/app/server', '--lambda'],
  };
  const args = jailArguments(image);

  test('the image is / read-only; no host folder but /usr at /run/lamina/host/usr', () => {
    assert.deepEqual(after(args, '--ro-bind', '/data/images/images/abc/rootfs'), [
      '/data/images/images/abc/rootfs',
      '/',
    ]);
    assert.deepEqual(after(args, '--ro-bind', '/usr'), ['/usr', '/run/lamina/host/usr']);
    assert.ok(!args.includes('/var/task'), 'no code folder is bound');
    assert.ok(!args.includes('--symlink'), "the host's top-level links are not made");
    assert.ok(!args.includes('/etc/ssl'), "the host's /etc entries are not bound");
    assert.deepEqual(after(args, '--tmpfs', '/run/lamina'), ['/run/lamina', '--ro-bind']);
    assert.deepEqual(after(args, '--chdir'), ['/app', '--seccomp']);
    assert.equal(after(args, '--unshare-user').length, 2);
  });

  test("the relays run the host's shell and socat through the host's loader", () => {
    const at = args.indexOf('--');
    const loader = '/run/lamina/host/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
    assert.deepEqual(args.slice(at + 1, at + 6), [
      loader,
      '--inhibit-cache',
      '--library-path',
      '/run/lamina/host/usr/lib/x86_64-linux-gnu',
      '/run/lamina/host/usr/bin/dash',
    ]);
    const script = args[at + 7] ?? '';
    assert.match(
      script,
      new RegExp(
        `${loader} --inhibit-cache --library-path \\S+ /run/lamina/host/usr/bin/socat -lf /dev/null TCP-LISTEN:9001`,
      ),
    );
    assert.ok(!/(^|\n)socat /.test(script), 'no socat from the image');
    assert.deepEqual(args.slice(-2), ['/app/server', '--lambda']);
  });

  test('without a loader under /usr the host cannot run images', () => {
    assert.throws(
      () => jailArguments({ ...image, layout: plan.layout }),
      /cannot run image functions/,
    );
  });
});
