/**
 * The `cidr` operator of event filtering: parses a block (`10.0.0.0/8`, `2001:db8::/32`) and
 * tests whether a record's string value is an address inside it. Addresses are parsed by hand
 * into bytes (IPv4 dotted quads; IPv6 with `::` and a dotted IPv4 tail) rather than with a
 * regular expression, and a string longer than any address text is refused before parsing, so
 * a huge record string costs nothing. An IPv4 value never matches an IPv6 block or the reverse.
 */
import { rejectPattern } from './event-filter-error.js';
import type { ValueTest } from './event-filter-values.js';

/** A CIDR block: the address bytes (4 or 16) and how many leading bits must agree. */
export interface IpBlock {
  readonly bytes: Uint8Array;
  readonly prefixBits: number;
}

/** `address/bits` as an IpBlock; throws FilterPatternError with EventBridge's reason. */
export function parseCidr(text: string): IpBlock {
  const parts = text.split('/');
  if (parts.length !== 2) rejectPattern("Malformed CIDR, one '/' required");
  const [address = '', mask = ''] = parts;
  if (!isDigits(mask, 3)) rejectPattern('Malformed CIDR, mask bits must be an integer');
  const bytes = parseIp(address) ?? rejectPattern(`Nonstandard IP address: ${address}`);
  const prefixBits = Number(mask);
  if (prefixBits > bytes.length * 8)
    rejectPattern(`Malformed CIDR, mask bits must be at most ${bytes.length * 8}`);
  return { bytes, prefixBits };
}

/** Passes a string holding an address of the same family inside `block`. */
export function cidrTest(block: IpBlock): ValueTest {
  return ({ value }) => {
    if (typeof value !== 'string') return false;
    const bytes = parseIp(value);
    return bytes !== undefined && bytes.length === block.bytes.length && sharesPrefix(bytes, block);
  };
}

function sharesPrefix(bytes: Uint8Array, block: IpBlock): boolean {
  for (let bit = 0; bit < block.prefixBits; bit += 8) {
    const keep = Math.min(8, block.prefixBits - bit);
    const mask = (0xff << (8 - keep)) & 0xff;
    if (((bytes[bit / 8] ?? 0) & mask) !== ((block.bytes[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** An IPv4 (4 bytes) or IPv6 (16 bytes) address in its textual forms, or undefined. */
function parseIp(text: string): Uint8Array | undefined {
  if (text.length > 45) return undefined; // longest IPv6 text; also spares huge record strings
  return text.includes(':') ? parseIpv6(text) : parseIpv4(text);
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((part) => isDigits(part, 3) && Number(part) <= 255))
    return undefined;
  return Uint8Array.from(parts, Number);
}

function parseIpv6(text: string): Uint8Array | undefined {
  if (text.includes('.') && text.lastIndexOf(':') > text.indexOf('.')) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = halves.map((half) => (half === '' ? [] : half.split(':')));
  const words = groups.map((list) => list.flatMap(ipv6Words));
  if (words.some((list) => list.includes(-1))) return undefined;
  const [head = [], tail = []] = words;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 1 ? 0 : missing).fill(0), ...tail];
  return Uint8Array.from(all.flatMap((word) => [word >> 8, word & 0xff]));
}

/** One colon-separated group: a 16-bit hex word, or a dotted IPv4 tail as two words; -1 if bad. */
function ipv6Words(group: string): number[] {
  if (group.includes('.')) {
    const v4 = parseIpv4(group);
    return v4 ? [((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0)] : [-1];
  }
  if (group.length < 1 || group.length > 4) return [-1];
  for (const c of group) if (!'0123456789abcdefABCDEF'.includes(c)) return [-1];
  return [parseInt(group, 16)];
}

function isDigits(text: string, maxLength: number): boolean {
  if (text.length === 0 || text.length > maxLength) return false;
  for (const c of text) if (c < '0' || c > '9') return false;
  return true;
}
