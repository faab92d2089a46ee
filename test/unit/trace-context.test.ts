/**
 * Trace context: X-Ray headers and W3C traceparent parsed, formatted and converted; hostile
 * values ignored as if absent; the sampling rule of TracingConfig; the header an invocation runs
 * with.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  MAX_XRAY_HEADER_CHARS,
  childTraceHeader,
  formatTraceparent,
  formatXRayHeader,
  incomingTrace,
  invocationTraceHeader,
  newSpanId,
  newTraceId,
  parseTraceparent,
  parseXRayHeader,
  sampledFor,
  xrayRoot,
  type RandomHex,
} from '../../src/core/trace-context.js';
import { traceHeaderOf } from '../../src/api/trace-header.js';

const ROOT = '1-5759e988-bd862e3fe1be46a994272793';
const TRACE_ID = '5759e988bd862e3fe1be46a994272793';
const PARENT = '53995c3f42cd8ad8';

/** A random source that hands out 0x11, 0x22, … so ids are predictable. */
function counting(): RandomHex {
  let n = 0;
  return (bytes) => {
    n += 1;
    return (n % 256).toString(16).padStart(2, '0').repeat(bytes);
  };
}

describe('X-Ray header parsing', () => {
  test('Root, Parent and Sampled, in any order, with spaces around fields', () => {
    assert.deepEqual(parseXRayHeader(`Root=${ROOT};Parent=${PARENT};Sampled=1`), {
      traceId: TRACE_ID,
      parentId: PARENT,
      sampled: true,
    });
    assert.deepEqual(parseXRayHeader(` Sampled=0 ; Parent=${PARENT};Root=${ROOT} `), {
      traceId: TRACE_ID,
      parentId: PARENT,
      sampled: false,
    });
  });

  test('Parent and Sampled are optional; Sampled=? leaves the decision to the receiver', () => {
    assert.deepEqual(parseXRayHeader(`Root=${ROOT}`), {
      traceId: TRACE_ID,
      parentId: undefined,
      sampled: undefined,
    });
    assert.deepEqual(parseXRayHeader(`Root=${ROOT};Sampled=?`), {
      traceId: TRACE_ID,
      parentId: undefined,
      sampled: undefined,
    });
    assert.deepEqual(parseXRayHeader(`Root=${ROOT};Sampled=1`)?.sampled, true);
  });

  test('other fields (Lineage, Self, unknown ones) are tolerated and dropped', () => {
    const parsed = parseXRayHeader(
      `Self=1-67891234-12456789abcdef012345678;Root=${ROOT};Parent=${PARENT};Sampled=1;Lineage=a87bd80c:1|68fd508a:5;Foo=bar;;`,
    );
    assert.deepEqual(parsed, { traceId: TRACE_ID, parentId: PARENT, sampled: true });
    assert.equal(
      formatXRayHeader(parsed ?? assert.fail()),
      `Root=${ROOT};Parent=${PARENT};Sampled=1`,
    );
  });

  test('upper-case hex is accepted and given back in lower case', () => {
    assert.deepEqual(parseXRayHeader(`Root=${ROOT.toUpperCase()};Parent=${PARENT.toUpperCase()}`), {
      traceId: TRACE_ID,
      parentId: PARENT,
      sampled: undefined,
    });
  });

  const hostile: Record<string, string> = {
    'no Root': `Parent=${PARENT};Sampled=1`,
    'Root of another version': `Root=2-5759e988-bd862e3fe1be46a994272793`,
    'Root too short': `Root=1-5759e988-bd862e3fe1be46a99427279`,
    'Root too long': `Root=1-5759e988-bd862e3fe1be46a9942727930`,
    'non-hex Root': `Root=1-5759e98g-bd862e3fe1be46a994272793`,
    'all-zero Root': `Root=1-00000000-000000000000000000000000`,
    'Root twice': `Root=${ROOT};Root=1-5759e988-bd862e3fe1be46a994272794`,
    'non-hex Parent': `Root=${ROOT};Parent=53995c3f42cd8adz`,
    'short Parent': `Root=${ROOT};Parent=53995c3f42cd8ad`,
    'all-zero Parent': `Root=${ROOT};Parent=0000000000000000`,
    'Sampled=2': `Root=${ROOT};Sampled=2`,
    'Sampled=true': `Root=${ROOT};Sampled=true`,
    'a field without =': `Root=${ROOT};Parent`,
    'a newline': `Root=${ROOT};Parent=${PARENT}\nX-Injected: 1`,
    'a NUL byte': `Root=${ROOT}\u0000`,
    'non-ASCII': `Root=${ROOT};Lineage=é`,
    oversized: `Root=${ROOT};Lineage=${'a'.repeat(MAX_XRAY_HEADER_CHARS)}`,
    'many ; fields': `${';'.repeat(MAX_XRAY_HEADER_CHARS)}Root=${ROOT}`,
    empty: '',
  };
  for (const [what, value] of Object.entries(hostile)) {
    test(`is ignored: ${what}`, () => assert.equal(parseXRayHeader(value), undefined));
  }

  test('a header at the length bound with many empty fields still parses, in bounded work', () => {
    const value = `Root=${ROOT};${';'.repeat(MAX_XRAY_HEADER_CHARS - ROOT.length - 6)}`;
    assert.equal(value.length, MAX_XRAY_HEADER_CHARS);
    assert.equal(parseXRayHeader(value)?.traceId, TRACE_ID);
  });
});

describe('W3C traceparent parsing', () => {
  test('version 00: trace id, parent id and the sampled flag', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE_ID}-${PARENT}-01`), {
      traceId: TRACE_ID,
      parentId: PARENT,
      sampled: true,
    });
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT}-00`)?.sampled, false);
    // Other flag bits do not change the sampled bit.
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT}-03`)?.sampled, true);
    assert.equal(parseTraceparent(`00-${TRACE_ID}-${PARENT}-02`)?.sampled, false);
  });

  test('a later version may append fields after the flags', () => {
    assert.equal(parseTraceparent(`01-${TRACE_ID}-${PARENT}-01-future`)?.traceId, TRACE_ID);
  });

  const invalid: Record<string, string> = {
    'version ff': `ff-${TRACE_ID}-${PARENT}-01`,
    'version 00 with more after the flags': `00-${TRACE_ID}-${PARENT}-01-extra`,
    'upper-case hex': `00-${TRACE_ID.toUpperCase()}-${PARENT}-01`,
    'all-zero trace id': `00-${'0'.repeat(32)}-${PARENT}-01`,
    'all-zero parent id': `00-${TRACE_ID}-${'0'.repeat(16)}-01`,
    'short trace id': `00-${TRACE_ID.slice(1)}-${PARENT}-01`,
    'missing flags': `00-${TRACE_ID}-${PARENT}`,
    oversized: `01-${TRACE_ID}-${PARENT}-01-${'x'.repeat(600)}`,
    garbage: 'traceparent',
  };
  for (const [what, value] of Object.entries(invalid)) {
    test(`is ignored: ${what}`, () => assert.equal(parseTraceparent(value), undefined));
  }
});

describe('conversion', () => {
  test("the Root's 8 + 24 hex digits are the W3C trace id, both ways", () => {
    const fromXRay = parseXRayHeader(`Root=${ROOT};Parent=${PARENT};Sampled=1`) ?? assert.fail();
    assert.equal(
      formatTraceparent({ ...fromXRay, parentId: PARENT }),
      `00-${TRACE_ID}-${PARENT}-01`,
    );
    const fromW3c = parseTraceparent(`00-${TRACE_ID}-${PARENT}-00`) ?? assert.fail();
    assert.equal(formatXRayHeader(fromW3c), `Root=${ROOT};Parent=${PARENT};Sampled=0`);
    assert.equal(xrayRoot(TRACE_ID), ROOT);
  });

  test('an undecided trace is formatted without Sampled', () => {
    assert.equal(
      formatXRayHeader({ traceId: TRACE_ID, parentId: undefined, sampled: undefined }),
      `Root=${ROOT}`,
    );
  });

  test('X-Ray wins over traceparent; a malformed X-Ray header falls back to traceparent', () => {
    const traceparent = `00-${'a'.repeat(32)}-${PARENT}-01`;
    assert.equal(incomingTrace(`Root=${ROOT}`, traceparent)?.traceId, TRACE_ID);
    assert.equal(incomingTrace('Root=nonsense', traceparent)?.traceId, 'a'.repeat(32));
    assert.equal(incomingTrace(undefined, undefined), undefined);
  });

  test("a request's headers become one X-Ray header (first value of a repeated header)", () => {
    assert.equal(
      traceHeaderOf({ traceparent: `00-${TRACE_ID}-${PARENT}-01` }),
      `Root=${ROOT};Parent=${PARENT};Sampled=1`,
    );
    assert.equal(
      traceHeaderOf({ 'x-amzn-trace-id': [`Root=${ROOT}`, 'Root=other'] }),
      `Root=${ROOT}`,
    );
    assert.equal(traceHeaderOf({ 'x-amzn-trace-id': 'x'.repeat(1_000_000) }), undefined);
  });
});

describe('sampling (TracingConfig)', () => {
  test("a caller's decision stands; without one Active samples and PassThrough does not", () => {
    const table: [boolean | undefined, 'Active' | 'PassThrough', boolean][] = [
      [true, 'Active', true],
      [false, 'Active', false],
      [undefined, 'Active', true],
      [true, 'PassThrough', true],
      [false, 'PassThrough', false],
      [undefined, 'PassThrough', false],
    ];
    for (const [caller, mode, sampled] of table)
      assert.equal(sampledFor(caller, mode), sampled, `${String(caller)} / ${mode}`);
  });
});

describe('the header an invocation runs with', () => {
  const NOW = Date.UTC(2026, 10, 1, 12, 0, 0);

  test("continues the caller's trace under a new Parent, with the caller's decision", () => {
    const header = invocationTraceHeader(
      `Root=${ROOT};Parent=${PARENT};Sampled=0`,
      'Active',
      NOW,
      counting(),
    );
    assert.equal(header, `Root=${ROOT};Parent=0101010101010101;Sampled=0`);
  });

  test('an undecided caller: Active samples, PassThrough does not', () => {
    assert.match(
      invocationTraceHeader(`Root=${ROOT};Sampled=?`, 'Active', NOW, counting()),
      new RegExp(`^Root=${ROOT};Parent=[0-9a-f]{16};Sampled=1$`),
    );
    assert.match(
      invocationTraceHeader(`Root=${ROOT}`, 'PassThrough', NOW, counting()),
      /;Sampled=0$/,
    );
  });

  test('without a (valid) caller header: a new trace stamped with the epoch second', () => {
    const seconds = Math.floor(NOW / 1000).toString(16);
    for (const caller of [undefined, 'Root=garbage']) {
      const header = invocationTraceHeader(caller, 'PassThrough', NOW, counting());
      assert.match(
        header,
        new RegExp(`^Root=1-${seconds}-[0-9a-f]{24};Parent=[0-9a-f]{16};Sampled=0$`),
      );
    }
    assert.equal(newTraceId(NOW, counting()).slice(0, 8), seconds);
  });

  test('a span id is never all zeros', () => {
    let calls = 0;
    const zerosFirst: RandomHex = (bytes) => (calls++ === 0 ? '00' : 'ab').repeat(bytes);
    assert.equal(newSpanId(zerosFirst), 'abababababababab');
  });

  test('a child header keeps the trace and decision under a new parent', () => {
    const trace = parseXRayHeader(`Root=${ROOT};Parent=${PARENT}`) ?? assert.fail();
    assert.equal(
      childTraceHeader(trace, 'ffffffffffffffff'),
      `Root=${ROOT};Parent=ffffffffffffffff`,
    );
  });
});
