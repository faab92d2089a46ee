/**
 * The nftables rules of one server's function network (pure; see docs/sandbox.md). One table of
 * the server's own holds them all, so that a start removes what an earlier run left by deleting
 * it, and no rule is written per environment: they match the interfaces by their prefix and the
 * environments by the server's address block.
 *
 * From an environment: nothing reaches the host itself (the input hook refuses every packet from
 * its interfaces, whatever the address: loopback, the gateway, the host's other addresses; only
 * IPv6 neighbour discovery, which finds the gateway, is answered). Forwarded packets to link-local
 * addresses, to other environments or to the operator's denied blocks are refused, those with a
 * source outside the server's blocks dropped; the rest leaves with the host's address
 * (masquerade). Towards an environment: only replies to what it opened.
 */

import { isIP } from 'node:net';

export interface NetworkRulesPlan {
  /** The table's name (`lamina_<id>`). */
  readonly table: string;
  /** Prefix of the host ends of the environments' interfaces (nft wildcard `prefix*`). */
  readonly interfacePrefix: string;
  /** The server's IPv4 block, e.g. `198.18.64.0/18`. */
  readonly block: string;
  /** The server's IPv6 block (a ULA /48) when the host routes IPv6; none: IPv6 is refused. */
  readonly block6?: string | undefined;
  /** Operator-denied destinations (`--function-deny`), IPv4 or IPv6 CIDRs. */
  readonly denied: readonly string[];
}

/**
 * Destinations never forwarded: link-local (cloud metadata lives there), the environments of
 * every server on the host (198.18.0.0/15), unspecified, multicast and reserved space.
 */
export const ALWAYS_DENIED_V4 = [
  '169.254.0.0/16',
  '198.18.0.0/15',
  '0.0.0.0/8',
  '224.0.0.0/4',
  '240.0.0.0/4',
];
/** The same for IPv6: the environments of every server are in `fd4c:6d6e::/32`. */
export const ALWAYS_DENIED_V6 = ['::/128', '::1/128', 'fe80::/10', 'ff00::/8', 'fd4c:6d6e::/32'];

/**
 * Refused at once rather than left to time out: a TCP connection gets a reset (the caller sees
 * "connection refused"; resets are not rate-limited as ICMP errors are), anything else an ICMP
 * "administratively prohibited" ("no route to host").
 */
const REFUSE = 'jump refuse';

/** The whole table as an `nft -f` script: delete-and-create, so it can be applied again. */
export function networkRules(plan: NetworkRulesPlan): string {
  const iface = `"${plan.interfacePrefix}*"`;
  const denied4 = [...ALWAYS_DENIED_V4, ...plan.denied.filter((c) => !c.includes(':'))];
  const denied6 = [...ALWAYS_DENIED_V6, ...plan.denied.filter((c) => c.includes(':'))];
  const ipv6 =
    plan.block6 === undefined
      ? [`    iifname ${iface} meta nfproto ipv6 ${REFUSE}`]
      : [`    iifname ${iface} ip6 saddr != ${plan.block6} drop`];
  return [
    `table inet ${plan.table} {}`,
    `delete table inet ${plan.table}`,
    `table inet ${plan.table} {`,
    `  chain refuse {`,
    `    meta l4proto tcp reject with tcp reset`,
    `    reject with icmpx type admin-prohibited`,
    `  }`,
    `  chain input {`,
    `    type filter hook input priority -10; policy accept;`,
    // IPv6 finds its gateway's link address through the host (IPv4's ARP is not IP).
    `    iifname ${iface} icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept`,
    `    iifname ${iface} ${REFUSE}`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority -10; policy accept;`,
    `    iifname ${iface} ip saddr != ${plan.block} drop`,
    // One rule per block: an operator's block may overlap the defaults, which a set refuses.
    ...denied4.map((cidr) => `    iifname ${iface} ip daddr ${cidr} ${REFUSE}`),
    ...denied6.map((cidr) => `    iifname ${iface} ip6 daddr ${cidr} ${REFUSE}`),
    ...ipv6,
    `    iifname ${iface} accept`,
    `    oifname ${iface} ct state established,related accept`,
    `    oifname ${iface} drop`,
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority 100; policy accept;`,
    `    ip saddr ${plan.block} oifname != ${iface} masquerade`,
    ...(plan.block6 === undefined
      ? []
      : [`    ip6 saddr ${plan.block6} oifname != ${iface} masquerade`]),
    `  }`,
    `}`,
    '',
  ].join('\n');
}

/** What an unprivileged server's environments may not reach (see userModeRules). */
export interface UserModeRulesPlan {
  /**
   * The host's own IPv4 addresses and local blocks (`localAddresses`): user-mode networking
   * connects from the host, so a connection to one reaches the host's own services.
   */
  readonly hostAddresses: readonly string[];
  /** The network user-mode networking gives each environment (its gateway is the host). */
  readonly internal: string;
  /** Operator-denied destinations (`--function-deny`); IPv6 is refused whole. */
  readonly denied: readonly string[];
}

/**
 * The rules of one environment under user-mode networking, installed in its own namespace before
 * the jail starts (the jail has no capability there to change them). Its packets leave through a
 * user-mode TCP/IP stack that opens ordinary sockets on the host, so a host address would reach
 * the host's own services: every one the host has is refused, with the defaults (link-local and
 * the rest of ALWAYS_DENIED_V4), the internal network (its gateway and DNS forwarder are the
 * host), the denied blocks and all of IPv6. The jail's loopback (the platform's relays) stays.
 */
export function userModeRules(plan: UserModeRulesPlan): string {
  const denied = [
    ...ALWAYS_DENIED_V4,
    plan.internal,
    ...plan.hostAddresses
      .filter((cidr) => isIP(cidr.split('/')[0] ?? '') === 4)
      .map((cidr) => (cidr.includes('/') ? cidr : `${cidr}/32`)),
    ...plan.denied.filter((cidr) => !cidr.includes(':')),
  ];
  return [
    'table inet lamina {',
    '  chain refuse {',
    '    meta l4proto tcp reject with tcp reset',
    '    reject with icmpx type admin-prohibited',
    '  }',
    '  chain output {',
    '    type filter hook output priority 0; policy accept;',
    '    oif "lo" accept',
    `    meta nfproto ipv6 ${REFUSE}`,
    ...denied.map((cidr) => `    ip daddr ${cidr} ${REFUSE}`),
    '  }',
    '}',
    '',
  ].join('\n');
}

/**
 * Every IPv4 address and block the host treats as its own, from `/proc/net/fib_trie` (its `host
 * LOCAL` entries, whatever the state of their interface: a bridge without carrier keeps them),
 * as CIDRs.
 */
export function localAddresses(fibTrie: string): string[] {
  const found = new Set<string>();
  let address: string | undefined;
  for (const line of fibTrie.split('\n')) {
    const leaf = /\|-- (\d+\.\d+\.\d+\.\d+)\s*$/.exec(line);
    if (leaf !== null) {
      address = leaf[1];
      continue;
    }
    const local = /^\s*\/(\d+) host LOCAL/.exec(line);
    if (local !== null && address !== undefined) found.add(`${address}/${local[1]}`);
  }
  return [...found];
}

/** The script that removes the table (and with it every rule), if it exists. */
export function removeNetworkRules(table: string): string {
  return `table inet ${table} {}\ndelete table inet ${table}\n`;
}

/**
 * The IPv4 name servers of a resolv.conf that a function can reach: those on loopback (a local
 * caching resolver) are the host's own and out of reach from a jail, IPv6 has no egress yet.
 */
export function hostNameservers(resolvConf: string): string[] {
  const servers: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const match = /^\s*nameserver\s+(\S+)/.exec(line);
    const address = match?.[1];
    if (address === undefined || isIP(address) !== 4 || address.startsWith('127.')) continue;
    servers.push(address);
  }
  return servers;
}

/**
 * Whether the host has a default IPv6 route (from `/proc/net/ipv6_route`): then environments get
 * IPv6 egress too.
 */
export function hasDefaultIpv6Route(ipv6Routes: string): boolean {
  return ipv6Routes.split('\n').some((line) => {
    const fields = line.trim().split(/\s+/);
    return fields[0] === '0'.repeat(32) && fields[1] === '00' && fields[9] !== 'lo';
  });
}
