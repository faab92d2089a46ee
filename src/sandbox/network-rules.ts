/**
 * The nftables rules of one server's function network (pure; see docs/sandbox.md). One table of
 * the server's own holds them all, so that a start removes what an earlier run left by deleting
 * it, and no rule is written per environment: they match the interfaces by their prefix and the
 * environments by the server's address block.
 *
 * From an environment: nothing reaches the host itself (the input hook refuses every packet from
 * its interfaces, whatever the address: loopback, the gateway, the host's other addresses), and
 * forwarded packets to link-local addresses, to other environments, to the operator's denied
 * blocks are refused, those with a source address outside the server's block dropped; the rest leaves with
 * the host's address (masquerade). Towards an environment: only replies to what it opened.
 */

import { isIP } from 'node:net';

export interface NetworkRulesPlan {
  /** The table's name (`lamina_<id>`). */
  readonly table: string;
  /** Prefix of the host ends of the environments' interfaces (nft wildcard `prefix*`). */
  readonly interfacePrefix: string;
  /** The server's IPv4 block, e.g. `100.81.0.0/16`. */
  readonly block: string;
  /** Operator-denied destinations (`--function-deny`), IPv4 or IPv6 CIDRs. */
  readonly denied: readonly string[];
}

/** Destinations never forwarded: link-local (cloud metadata lives there) and the like. */
export const ALWAYS_DENIED_V4 = ['169.254.0.0/16', '0.0.0.0/8', '224.0.0.0/4', '240.0.0.0/4'];
export const ALWAYS_DENIED_V6 = ['fe80::/10', 'ff00::/8'];

/**
 * Refused at once rather than left to time out: a TCP connection gets a reset (the caller sees
 * "connection refused"; resets are not rate-limited as ICMP errors are), anything else an ICMP
 * "administratively prohibited" ("no route to host").
 */
const REFUSE = 'jump refuse';

/** The whole table as an `nft -f` script: delete-and-create, so it can be applied again. */
export function networkRules(plan: NetworkRulesPlan): string {
  const iface = `"${plan.interfacePrefix}*"`;
  const denied4 = [...ALWAYS_DENIED_V4, plan.block, ...plan.denied.filter((c) => !c.includes(':'))];
  const denied6 = [...ALWAYS_DENIED_V6, ...plan.denied.filter((c) => c.includes(':'))];
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
    `    iifname ${iface} ${REFUSE}`,
    `  }`,
    `  chain forward {`,
    `    type filter hook forward priority -10; policy accept;`,
    `    iifname ${iface} ip saddr != ${plan.block} drop`,
    `    iifname ${iface} ip daddr { ${denied4.join(', ')} } ${REFUSE}`,
    `    iifname ${iface} ip6 daddr { ${denied6.join(', ')} } ${REFUSE}`,
    `    iifname ${iface} meta nfproto ipv6 ${REFUSE}`,
    `    iifname ${iface} accept`,
    `    oifname ${iface} ct state established,related accept`,
    `    oifname ${iface} drop`,
    `  }`,
    `  chain postrouting {`,
    `    type nat hook postrouting priority 100; policy accept;`,
    `    ip saddr ${plan.block} oifname != ${iface} masquerade`,
    `  }`,
    `}`,
    '',
  ].join('\n');
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
