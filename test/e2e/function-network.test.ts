/**
 * Functions' own network (`--function-network`, on by default): a function reaches a test host
 * standing in for the internet by name, and every item of the default policy is probed from inside
 * a function and refused at once: the host's addresses (the Lamina API port among them), link-local
 * addresses, another environment, a denied block; raw sockets and changes to its own links and
 * routes are not permitted. When the server stops, its namespaces and rules are gone. With
 * `--function-network off` a function has loopback only.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { deploy, invokeJson } from '../helpers/functions.js';
import { lambdaClient } from '../helpers/lambda-client.js';
import { startServer, tempDir, type ServerProcess } from '../helpers/server-process.js';
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
        for args in (['link', 'set', 'eth0', 'down'], ['route', 'add', '10.99.0.0/16', 'dev', 'eth0'], ['addr', 'add', '100.64.0.9/32', 'dev', 'eth0']):
            p = subprocess.run(['/usr/sbin/ip'] + args, capture_output=True, text=True)
            out.append([p.returncode, p.stderr.strip()])
        return {'result': out}
    if kind == 'resolv':
        return {'result': open('/etc/resolv.conf').read()}
`;

/** The host's own IPv4 addresses outside loopback. */
function hostAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flat()
    .flatMap((a) => (a !== undefined && a.family === 'IPv4' && !a.internal ? [a.address] : []));
}

function laminaNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((name) => name.startsWith('lamina-'));
  } catch {
    return [];
  }
}

describe('functions reach the network (--function-network on)', () => {
  const dir = tempDir();
  let internet: TestInternet;
  let server: ServerProcess;
  let client: LambdaClient;
  let earlier: string[] = [];
  const call = async (name: string, event: unknown) =>
    (await invokeJson(client, name, event)).body as Record<string, unknown>;

  before(async () => {
    internet = await startTestInternet();
    earlier = laminaNamespaces();
    server = await startServer({
      dataDir: dir.path,
      args: ['--function-dns', internet.address, '--function-deny', internet.secondBlock],
    });
    client = lambdaClient(server.endpoint);
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
    dir.remove();
  });

  test('a function fetches a page from the internet by name', async () => {
    const body = await call('net-a', { kind: 'fetch', url: 'http://www.internet.test/page' });
    assert.deepEqual(body, { status: 200, body: 'hello from the internet /page' });
    const resolv = await call('net-a', { kind: 'resolv' });
    assert.match(String(resolv['result']), new RegExp(`nameserver ${internet.address}`));
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
    assert.match(String(address), /^100\.\d+\.\d+\.\d+$/);
    const { result } = await call('net-a', { kind: 'connect', host: address, port: 8080 });
    assert.match(String(result), /refused|No route to host|unreachable/i);
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

  test('a stopped server leaves no namespace, interface or rule behind', async () => {
    const before = laminaNamespaces().filter((name) => !earlier.includes(name));
    assert.ok(before.length > 0, 'the running server has namespaces');
    await server.stop();
    const left = laminaNamespaces().filter((name) => before.includes(name));
    assert.deepEqual(left, []);
    const tables = execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' });
    const ours = String(before[0]).split('-')[1] ?? '';
    assert.notEqual(ours, '');
    assert.doesNotMatch(tables, new RegExp(`lamina_${ours}`));
    const links = execFileSync('ip', ['-o', 'link'], { encoding: 'utf8' });
    assert.doesNotMatch(links, new RegExp(`lm${ours}`));
  });
});

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
});
