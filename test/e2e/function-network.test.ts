/**
 * Functions' own network (`--function-network`, on by default): a function reaches a test host
 * standing in for the internet by name, and every item of the default policy is probed from inside
 * a function and refused at once: the host's addresses (the Lamina API port among them), link-local
 * addresses, another environment, a denied block; raw sockets and changes to its own links and
 * routes are not permitted. An allow-listed host service (the machine's PostgreSQL) is reached at
 * host.lamina.internal with `pg` from a layer, and is out of reach when not allow-listed. When the
 * server stops, its namespaces and rules are gone. All of it twice: with a root server (its own
 * namespaces) and with an unprivileged one (user-mode networking). With `--function-network off`
 * a function has loopback only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { PublishLayerVersionCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { networkOf, processAlive, userModeStacks } from '../helpers/function-network.js';
import { deploy, invokeJson } from '../helpers/functions.js';
import { packageEntries } from '../helpers/node-packages.js';
import { buildZip } from '../helpers/zips.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import {
  startServer,
  tempDir,
  UNPRIVILEGED_USER,
  type ServerProcess,
} from '../helpers/server-process.js';
import { startTestInternet, type TestInternet } from '../helpers/test-internet.js';

/** Probes run inside a function: each answers what happened, never waiting long. */
const PROBE = `
import json, socket, subprocess, threading, urllib.request

held = []

def connect(host, port):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, port))
        s.close()
        return 'connected'
    except Exception as e:
        return type(e).__name__ + ': ' + str(e)

def handler(event, context):
    kind = event['kind']
    if kind == 'fetch':
        try:
            with urllib.request.urlopen(event['url'], timeout=5) as r:
                return {'status': r.status, 'body': r.read().decode()}
        except Exception as e:
            return {'error': type(e).__name__ + ': ' + str(e)}
    if kind == 'connect':
        return {'result': connect(event['host'], event['port'])}
    if kind == 'listen':
        s = socket.socket()
        s.bind(('0.0.0.0', 8080))
        s.listen(16)
        held.append(s)
        probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        probe.connect((event['peer'], 80))
        return {'address': probe.getsockname()[0]}
    if kind == 'raw':
        try:
            socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
            return {'result': 'opened'}
        except Exception as e:
            return {'result': type(e).__name__ + ': ' + str(e)}
    if kind == 'ip':
        out = []
        dev = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:] if l.split(':')[0].strip() != 'lo'][0]
        for args in (['link', 'set', dev, 'down'], ['route', 'add', '10.99.0.0/16', 'dev', dev], ['addr', 'add', '100.64.0.9/32', 'dev', dev]):
            p = subprocess.run(['/usr/sbin/ip'] + args, capture_output=True, text=True)
            out.append([p.returncode, p.stderr.strip()])
        return {'result': out}
    if kind == 'resolv':
        return {'result': open('/etc/resolv.conf').read()}
`;

/** A Node.js function querying PostgreSQL at host.lamina.internal:5432 with `pg` from a layer. */
const PG_QUERY = `
import pg from 'pg';
export const handler = async () => {
  const client = new pg.Client({ host: 'host.lamina.internal', port: 5432, user: 'postgres',
    database: 'postgres', connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    const { rows } = await client.query('SELECT 6 * 7 AS answer');
    return { answer: rows[0].answer };
  } catch (error) {
    return { error: String(error.code ?? error.message) };
  } finally {
    await client.end().catch(() => undefined);
  }
};`;

/** Publishes a layer with the `pg` package (nodejs/node_modules) and deploys PG_QUERY with it. */
async function deployPgFunction(client: LambdaClient, name: string): Promise<void> {
  const zip = await buildZip(
    packageEntries(['pg']).map((entry) => ({ ...entry, name: `nodejs/${entry.name}` })),
  );
  const layer = await client.send(
    new PublishLayerVersionCommand({ LayerName: `${name}-pg`, Content: { ZipFile: zip } }),
  );
  await deploy(
    client,
    name,
    { 'index.mjs': PG_QUERY },
    { layers: [String(layer.LayerVersionArn)] },
  );
}

/** The host's own IPv4 addresses outside loopback. */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a !== undefined && a.family === 'IPv4' && !a.internal ? [a.address] : []));
}

/** How the two kinds of server differ. */
interface NetworkKind {
  /** The server's user (none: root). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** Whether IPv6 leaves when the host routes it (else it is always refused). */
  readonly ipv6: boolean;
  /** What the server's network has on the host, checked to be gone after it stops. */
  running(server: ServerProcess, dataDir: string): unknown;
  readonly stopped: unknown;
}

const ROOT: NetworkKind = {
  ipv6: true,
  running: (_server, dataDir) => networkOf(dataDir),
  stopped: { namespaces: [], links: 0, rules: '' },
};

let stacks: number[] = [];
/** An unprivileged server: user-mode networking, one slirp4netns per environment. */
const UNPRIVILEGED: NetworkKind = {
  user: UNPRIVILEGED_USER,
  ipv6: false,
  running: (server) => {
    // Remembered while the server runs: once it is gone they are no longer its children.
    if (server.child.exitCode === null) stacks = userModeStacks(server.child.pid);
    return stacks.filter(processAlive);
  },
  stopped: [],
};

for (const [title, kind] of [
  ['functions reach the network (--function-network on)', ROOT],
  ['functions of an unprivileged server reach the network (user-mode networking)', UNPRIVILEGED],
] as const)
  describe(title, () => {
    policySuite(kind);
  });

/**
 * A host address on a bridge without ports (up, with no carrier once it has had one: the host's
 * own, though then not among the "running" interfaces a process lists), with a TCP listener on it.
 */
async function startQuietBridge(): Promise<{ address: string; port: number; stop(): void }> {
  const name = `lmqb${(process.pid % 46_000).toString(36)}`;
  const address = `10.252.${process.pid % 250}.1`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  try {
    ip('link', 'delete', name);
  } catch {
    // none left by an earlier run
  }
  ip('link', 'add', name, 'type', 'bridge');
  ip('addr', 'add', `${address}/32`, 'dev', name);
  ip('link', 'set', name, 'up');
  const listener = createServer((socket) => socket.end('host service\n'));
  await new Promise<void>((resolve) => listener.listen(0, address, resolve));
  const port = (listener.address() as AddressInfo).port;
  return {
    address,
    port,
    stop: () => {
      listener.close();
      ip('link', 'delete', name);
    },
  };
}

function policySuite(kind: NetworkKind): void {
  const dir = tempDir();
  let quietBridge: Awaited<ReturnType<typeof startQuietBridge>>;
  let internet: TestInternet;
  let server: ServerProcess;
  let client: LambdaClient;
  const call = async (name: string, event: unknown) =>
    (await invokeJson(client, name, event)).body as Record<string, unknown>;

  before(async () => {
    internet = await startTestInternet();
    quietBridge = await startQuietBridge();
    server = await startServer({
      dataDir: dir.path,
      ...(kind.user === undefined ? {} : { user: kind.user }),
      args: [
        '--function-dns',
        internet.address,
        '--function-deny',
        internet.secondBlock,
        '--function-allow',
        '127.0.0.1:5432',
      ],
    });
    client = lambdaClient(server.endpoint);
    await deployPgFunction(client, 'net-pg');
    for (const name of ['net-a', 'net-b'])
      await deploy(
        client,
        name,
        { 'probe.py': PROBE },
        {
          runtime: 'python3.11',
          handler: 'probe.handler',
          timeout: 20,
        },
      );
  });

  after(async () => {
    client.destroy();
    await server.stop();
    internet.stop();
    quietBridge.stop();
    dir.remove();
  });

  test('an address of the host on a bridge without ports is refused too', async () => {
    const { result } = await call('net-a', {
      kind: 'connect',
      host: quietBridge.address,
      port: quietBridge.port,
    });
    assert.match(String(result), /No route to host|refused|unreachable/i);
  });

  test('a function fetches a page from the internet by name', async () => {
    const body = await call('net-a', { kind: 'fetch', url: 'http://www.internet.test/page' });
    assert.deepEqual(body, { status: 200, body: 'hello from the internet /page' });
    const resolv = await call('net-a', { kind: 'resolv' });
    assert.match(String(resolv['result']), new RegExp(`nameserver ${internet.address}`));
  });

  test('IPv6 leaves too when the host routes it (as root), and is refused otherwise', async () => {
    const routed = readFileSync('/proc/net/ipv6_route', 'utf8')
      .split('\n')
      .some((line) => /^0{32} 00 /.test(line) && !/ lo$/.test(line.trim()));
    const body = await call('net-a', { kind: 'fetch', url: `http://[${internet.address6}]/v6` });
    if (routed && kind.ipv6)
      assert.deepEqual(body, { status: 200, body: 'hello from the internet /v6' });
    else assert.match(String(body['error']), /refused|unreachable/i);
  });

  test('an allow-listed host service (PostgreSQL) is reached at host.lamina.internal', async () => {
    assert.deepEqual(await call('net-pg', {}), { answer: 42 });
  });

  test("the host's addresses, the Lamina API port among them, are refused", async () => {
    const port = Number(new URL(server.endpoint).port);
    const addresses = hostAddresses();
    assert.ok(addresses.length > 0);
    for (const host of addresses) {
      for (const target of [port, 5432, 22]) {
        const { result } = await call('net-a', { kind: 'connect', host, port: target });
        assert.match(String(result), /No route to host|refused|unreachable/i, `${host}:${target}`);
      }
    }
    // The jail's loopback is its own: nothing of the host's listens there.
    const { result } = await call('net-a', { kind: 'connect', host: '127.0.0.1', port });
    assert.match(String(result), /ConnectionRefused/);
  });

  test('link-local addresses (cloud metadata) and denied blocks are refused', async () => {
    for (const host of ['169.254.169.254', internet.secondAddress]) {
      const { result } = await call('net-a', { kind: 'connect', host, port: 80 });
      assert.match(String(result), /refused|No route to host|unreachable/i, host);
    }
  });

  test("one environment cannot connect to another's address", async () => {
    const { address } = await call('net-b', { kind: 'listen', peer: internet.address });
    assert.match(String(address), /^198\.1[89]\.\d+\.\d+$/);
    const { result } = await call('net-a', { kind: 'connect', host: address, port: 8080 });
    assert.match(String(result), /refused|No route to host|unreachable/i);
    // Under user-mode networking every environment has the same address: each its own.
    if (kind.user !== undefined) {
      const own = await call('net-a', { kind: 'listen', peer: internet.address });
      assert.equal(own['address'], address);
    }
  });

  test('raw sockets and changes to links, routes and addresses are not permitted', async () => {
    assert.match(
      String((await call('net-a', { kind: 'raw' }))['result']),
      /Operation not permitted/,
    );
    const { result } = await call('net-a', { kind: 'ip' });
    for (const [code, stderr] of result as Array<[number, string]>) {
      assert.notEqual(code, 0);
      assert.match(stderr, /Operation not permitted/);
    }
  });

  test('a stopped server leaves no namespace, interface, rule or network process behind', async () => {
    assert.notDeepEqual(kind.running(server, dir.path), kind.stopped);
    await server.stop();
    assert.deepEqual(kind.running(server, dir.path), kind.stopped);
  });
}

describe('functions without a network (--function-network off)', () => {
  const dir = tempDir();
  let server: ServerProcess;
  let client: LambdaClient;

  before(async () => {
    server = await startServer({ dataDir: dir.path, args: ['--function-network', 'off'] });
    client = lambdaClient(server.endpoint);
    await deploy(
      client,
      'net-off',
      { 'probe.py': PROBE },
      {
        runtime: 'python3.11',
        handler: 'probe.handler',
      },
    );
    await deployPgFunction(client, 'net-off-pg');
  });

  after(async () => {
    client.destroy();
    await server.stop();
    dir.remove();
  });

  test('a function has loopback only', async () => {
    const { body } = await invokeJson(client, 'net-off', {
      kind: 'connect',
      host: hostAddresses()[0],
      port: 22,
    });
    assert.match(String((body as Record<string, unknown>)['result']), /unreachable/i);
  });

  test('a host service not allow-listed cannot be reached', async () => {
    const { body } = await invokeJson(client, 'net-off-pg', {});
    assert.deepEqual(body, { error: 'ECONNREFUSED' });
  });
});
