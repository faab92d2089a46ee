/**
 * The function network's pure parts: the nftables table, an environment's rules under user-mode
 * networking, name servers, the IPv6 default route, the tools each needs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { resolvConf } from '../../src/sandbox/bwrap-sandbox-driver.js';
import { missingNetworkTools } from '../../src/sandbox/function-network.js';
import {
  hasDefaultIpv6Route,
  hostNameservers,
  localAddresses,
  networkRules,
  removeNetworkRules,
  userModeRules,
} from '../../src/sandbox/network-rules.js';
import { UserModeNetwork } from '../../src/sandbox/user-mode-network.js';

const plan = {
  table: 'lamina_abc123',
  interfacePrefix: 'lmabc123',
  block: '198.18.64.0/18',
  denied: ['10.0.0.0/8', 'fd12::/16'],
};

describe('the nftables table', () => {
  const rules = networkRules(plan);

  test('replaces an earlier table of the same name', () => {
    assert.ok(rules.startsWith('table inet lamina_abc123 {}\ndelete table inet lamina_abc123\n'));
    assert.equal(
      removeNetworkRules('lamina_abc123'),
      'table inet lamina_abc123 {}\ndelete table inet lamina_abc123\n',
    );
  });

  test('refuses everything from the environments to the host, but IPv6 neighbour discovery', () => {
    const input = rules.slice(rules.indexOf('chain input'), rules.indexOf('chain forward'));
    assert.match(
      input,
      /iifname "lmabc123\*" icmpv6 type \{ nd-neighbor-solicit, nd-neighbor-advert \} accept/,
    );
    assert.match(input, /iifname "lmabc123\*" jump refuse/);
  });

  test('refuses link-local, the block itself and the denied blocks; masquerades the rest', () => {
    for (const cidr of ['169.254.0.0/16', '198.18.0.0/15', '224.0.0.0/4', '10.0.0.0/8'])
      assert.ok(rules.includes(`iifname "lmabc123*" ip daddr ${cidr} jump refuse`), cidr);
    for (const cidr of ['fe80::/10', 'fd4c:6d6e::/32', 'fd12::/16'])
      assert.ok(rules.includes(`iifname "lmabc123*" ip6 daddr ${cidr} jump refuse`), cidr);
    assert.match(rules, /iifname "lmabc123\*" ip saddr != 198\.18\.64\.0\/18 drop/);
    assert.match(
      rules,
      /oifname "lmabc123\*" ct state established,related accept\n\s+oifname "lmabc123\*" drop/,
    );
    assert.match(rules, /ip saddr 198\.18\.64\.0\/18 oifname != "lmabc123\*" masquerade/);
    assert.match(rules, /meta l4proto tcp reject with tcp reset/);
  });

  test('IPv6 is refused without a block, forwarded and masqueraded with one', () => {
    assert.match(rules, /iifname "lmabc123\*" meta nfproto ipv6 jump refuse/);
    const six = networkRules({ ...plan, block6: 'fd4c:6d6e:6::/48' });
    assert.doesNotMatch(six, /meta nfproto ipv6/);
    assert.match(six, /iifname "lmabc123\*" ip6 saddr != fd4c:6d6e:6::\/48 drop/);
    assert.match(six, /ip6 saddr fd4c:6d6e:6::\/48 oifname != "lmabc123\*" masquerade/);
  });
});

test("the host's name servers a jail can reach: IPv4, not on loopback", () => {
  const conf =
    '# comment\nnameserver 127.0.0.53\nnameserver 10.255.255.53\nnameserver ::1\n  nameserver 1.1.1.1 \nsearch x\n';
  assert.deepEqual(hostNameservers(conf), ['10.255.255.53', '1.1.1.1']);
  assert.deepEqual(hostNameservers(''), []);
});

test("a jail's resolv.conf", () => {
  assert.equal(resolvConf(['10.0.0.2']), 'nameserver 10.0.0.2\noptions timeout:2 attempts:2\n');
  assert.match(resolvConf([]), /^# no name servers/);
});

test('a default IPv6 route is one to ::/0 that is not the loopback unreachable entry', () => {
  const zero = '0'.repeat(32);
  const via = `${zero} 00 ${zero} 00 fd000000000000000000000000000001 00000400 00000002 00000000 00000003     eth0`;
  const unreachable = `${zero} 00 ${zero} 00 ${zero} ffffffff 00000001 00000000 00200200       lo`;
  const link = `fd000000000000000000000000000000 40 ${zero} 00 ${zero} 00000100 00000001 00000000 00000001     eth0`;
  assert.equal(hasDefaultIpv6Route([link, unreachable, via].join('\n')), true);
  assert.equal(hasDefaultIpv6Route([link, unreachable].join('\n')), false);
});

test('a server without ip or nft says which package to install, or how to start without', () => {
  assert.equal(
    missingNetworkTools(() => true),
    undefined,
  );
  assert.equal(
    missingNetworkTools((path) => path === '/usr/sbin/ip'),
    "functions' network needs nft (Debian package nftables): install it, or start with --function-network off",
  );
  assert.match(
    String(missingNetworkTools(() => false)),
    /needs ip \(Debian package iproute2\) and nft \(Debian package nftables\): install them/,
  );
});

describe("an environment's rules under user-mode networking", () => {
  const rules = userModeRules({
    hostAddresses: ['127.0.0.0/8', '192.0.2.2', '172.17.0.0/16', 'fd00::2'],
    internal: '198.19.255.0/24',
    denied: ['10.0.0.0/8', 'fd12::/16'],
  });
  const output = rules.slice(rules.indexOf('chain output'));

  test("keep the jail's loopback (the platform's relays) before anything is refused", () => {
    assert.ok(output.indexOf('oif "lo" accept') < output.indexOf('jump refuse'));
  });

  test("refuse the host's IPv4 addresses, the defaults, the internal network and denied blocks", () => {
    for (const cidr of [
      '192.0.2.2/32',
      '172.17.0.0/16',
      '169.254.0.0/16',
      '198.18.0.0/15',
      '198.19.255.0/24',
      '10.0.0.0/8',
      '224.0.0.0/4',
    ])
      assert.ok(output.includes(`ip daddr ${cidr} jump refuse`), cidr);
  });

  test('refuse all of IPv6 (user-mode networking gives none)', () => {
    assert.match(output, /meta nfproto ipv6 jump refuse/);
    assert.doesNotMatch(output, /fd12|fd00/);
  });
});

test('user-mode networking says which packages it lacks', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lamina-umn-'));
  try {
    await assert.rejects(UserModeNetwork.open({ workDir: dir, denied: [], toolDirs: [dir] }), {
      message:
        'user-mode networking needs unshare (Debian package util-linux), slirp4netns (Debian ' +
        'package slirp4netns), nft (Debian package nftables)',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the host's own addresses and blocks are its local routes, whatever their interface's state", () => {
  const fibTrie = [
    'Main:',
    '  +-- 0.0.0.0/0 3 0 5',
    '     |-- 0.0.0.0',
    '        /0 universe UNICAST',
    'Local:',
    '  +-- 0.0.0.0/0 3 0 5',
    '     +-- 127.0.0.0/8 2 0 2',
    '        |-- 127.0.0.0',
    '           /8 host LOCAL',
    '        |-- 127.255.255.255',
    '           /32 link BROADCAST',
    '     |-- 172.17.0.1',
    '        /32 host LOCAL',
    '     |-- 192.0.2.2',
    '        /32 host LOCAL',
    '',
  ].join('\n');
  assert.deepEqual(localAddresses(fibTrie), ['127.0.0.0/8', '172.17.0.1/32', '192.0.2.2/32']);
});
