/**
 * Random hex digits for trace and span ids, drawn from a pool of cryptographic random bytes
 * refilled 4 KiB at a time (one system call per ~200 invocations' ids), so making ids costs next
 * to nothing on the invoke path.
 */
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(4096);
let used = pool.length;

/** `bytes` random bytes (at most 4096) as lowercase hex. */
export function randomHex(bytes: number): string {
  if (used + bytes > pool.length) {
    randomFillSync(pool);
    used = 0;
  }
  used += bytes;
  return pool.toString('hex', used - bytes, used);
}
