/**
 * Unit tests of the streamed reading of code uploads: the base64 decoder and the JSON lifter must
 * give exactly what parsing the whole body gives (the same bytes, the same refusals), however the
 * body is cut into chunks.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { Base64Decoder } from '../../src/api/base64-decoder.js';
import { JsonBlobLifter, LIFTED_MARK } from '../../src/api/json-blob-lifter.js';
import { parseJsonObject } from '../../src/api/wire-reader.js';
import { LambdaError } from '../../src/core/errors.js';

/** A deterministic generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cuts a body into chunks of random sizes (1 byte to `max`). */
function chunksOf(body: Buffer, next: () => number, max = 64): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < body.length;) {
    const size = 1 + Math.floor(next() * max);
    chunks.push(body.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

/** What the one-piece reading gives: the Code.ZipFile bytes, or the error's message. */
function whole(body: Buffer, read: (o: ReturnType<typeof parseJsonObject>) => unknown): unknown {
  try {
    return read(parseJsonObject(body));
  } catch (error) {
    return described(error);
  }
}

/** An error's code, and its message when it is Lamina's own (JSON.parse words its own). */
function described(error: unknown): unknown {
  if (!(error instanceof LambdaError)) return error;
  return error.message.includes('base64') ? `${error.code}: ${error.message}` : error.code;
}

function streamed(
  body: Buffer,
  chunks: readonly Buffer[],
  read: (o: ReturnType<typeof parseJsonObject>) => unknown,
): unknown {
  const lifter = new JsonBlobLifter(body.length);
  for (const chunk of chunks) lifter.push(chunk);
  const { json, blobs } = lifter.end();
  try {
    return read(parseJsonObject(json, blobs));
  } catch (error) {
    return described(error);
  }
}

const codeZip = (o: ReturnType<typeof parseJsonObject>) => {
  const code = o.object('Code');
  return { zip: code?.blob('ZipFile')?.toString('hex'), name: o.string('FunctionName') };
};

describe('Base64Decoder', () => {
  test('decodes pieces into the bytes Buffer.from gives for the whole', () => {
    const next = random(1);
    for (let n = 0; n < 200; n += 1) {
      const bytes = randomBytes(Math.floor(next() * 300));
      const text = bytes.toString('base64');
      const decoder = new Base64Decoder(next() < 0.5 ? text.length : undefined);
      for (let at = 0; at < text.length;) {
        const size = 1 + Math.floor(next() * 9);
        decoder.push(text.slice(at, at + size));
        at += size;
      }
      assert.deepEqual(decoder.finish(), bytes);
    }
  });

  test('white space is skipped; padding only at the end, at most two; a remainder of 1 fails', () => {
    const decode = (...pieces: string[]) => {
      const decoder = new Base64Decoder();
      for (const piece of pieces) decoder.push(piece);
      return decoder.finish()?.toString('latin1');
    };
    assert.equal(decode('QU', ' J\n', 'D\t'), 'ABC');
    assert.equal(decode('QQ', '=', '= '), 'A');
    assert.equal(decode('QQ=='), 'A');
    assert.equal(decode('QUI='), 'AB');
    assert.equal(decode('QUI'), 'AB');
    assert.equal(decode(''), '');
    assert.equal(decode('QUJD', '\u00a0', 'QUJD'), 'ABCABC');
    assert.equal(decode('Q'), undefined);
    assert.equal(decode('QQ=', '=', '='), undefined);
    assert.equal(decode('QQ==', 'QQ'), undefined);
    assert.equal(decode('QQ', '-'), undefined);
    assert.equal(decode('QQ', '==', 'QQ=='), undefined);
  });

  test('output sized from a generous guess is given back at its real size', () => {
    const decoder = new Base64Decoder(10 * 1024 * 1024);
    decoder.push('QUJD');
    const out = decoder.finish();
    assert.equal(out?.toString(), 'ABC');
    assert.ok((out?.buffer.byteLength ?? 0) < 1024 * 1024);
  });
});

describe('JsonBlobLifter', () => {
  test('lifts Code.ZipFile out of a CreateFunction body, whatever the chunks', () => {
    const zip = randomBytes(5000);
    const body = Buffer.from(
      JSON.stringify({
        FunctionName: 'fn',
        Description: 'has "ZipFile": "quotes" and \\ backslashes',
        Code: { ZipFile: zip.toString('base64') },
        Tags: { ZipFile: 'not lifted: not a member of Code' },
      }),
    );
    const next = random(2);
    for (let n = 0; n < 50; n += 1) {
      const lifter = new JsonBlobLifter(body.length);
      for (const chunk of chunksOf(body, next, 700)) lifter.push(chunk);
      const { json, blobs } = lifter.end();
      assert.ok(json.length < 300, `the remaining JSON is small (${json.length} bytes)`);
      const parsed = parseJsonObject(json, blobs);
      assert.deepEqual(parsed.object('Code')?.blob('ZipFile'), zip);
      assert.equal(parsed.string('Description'), 'has "ZipFile": "quotes" and \\ backslashes');
      // Every member named ZipFile is lifted; only `blob` reads the marks.
      assert.ok(parsed.object('Tags')?.string('ZipFile')?.startsWith(LIFTED_MARK));
    }
  });

  test('top-level ZipFile (UpdateFunctionCode) and Content.ZipFile (PublishLayerVersion)', () => {
    const zip = randomBytes(100);
    for (const [body, read] of [
      [{ ZipFile: zip.toString('base64'), Publish: true }, (o) => o.blob('ZipFile')],
      [
        { Content: { ZipFile: zip.toString('base64') } },
        (o) => o.object('Content')?.blob('ZipFile'),
      ],
    ] as ReadonlyArray<[unknown, (o: ReturnType<typeof parseJsonObject>) => unknown]>) {
      const lifter = new JsonBlobLifter();
      lifter.push(Buffer.from(JSON.stringify(body)));
      const { json, blobs } = lifter.end();
      assert.deepEqual(read(parseJsonObject(json, blobs)), zip);
    }
  });

  test('an escaped member name is recognised; a value in an array or a non-string is not lifted', () => {
    const zip = randomBytes(30).toString('base64');
    const lifter = new JsonBlobLifter();
    lifter.push(
      Buffer.from(
        `{"Zip\\u0046ile":"${zip}","List":["ZipFile","${zip}"],"ZipFile2":{"ZipFile":7}}`,
      ),
    );
    const { json, blobs } = lifter.end();
    assert.equal(blobs.length, 1);
    const parsed = parseJsonObject(json, blobs);
    assert.deepEqual(parsed.blob('ZipFile'), Buffer.from(zip, 'base64'));
    assert.deepEqual(parsed.stringList('List'), ['ZipFile', zip]);
  });

  test('gives what the whole body gives, for valid, odd and broken ZipFile values', () => {
    const zip = randomBytes(200).toString('base64');
    const values = [
      JSON.stringify(zip),
      JSON.stringify(zip.replace(/(.{10})/g, '$1\n')),
      JSON.stringify(zip.replace(/(.{7})/g, '$1 \t\r')),
      JSON.stringify(zip).replace(/\//g, '\\/'),
      JSON.stringify(zip).replace(/A/g, '\\u0041'),
      JSON.stringify(`${zip}\u00a0\u2028\u3000\ufeff`),
      JSON.stringify(`${zip.slice(0, 8)}\u00a0${zip.slice(8)}`),
      JSON.stringify(`${zip}é`),
      JSON.stringify('QQ=='),
      JSON.stringify('QQ= ='),
      JSON.stringify('QQ=\\n='),
      JSON.stringify('QQ==='),
      JSON.stringify('QQ==QQ=='),
      JSON.stringify('Q'),
      JSON.stringify('QUJD-'),
      JSON.stringify(''),
      '"QUJD\\x"',
      '"QU\nJD"',
      '"QU\u0001JD"',
      '"QUJD\\u00"',
      '"QUJD\\"',
      '"QU\\"JD"',
      '"\\uD83D\\uDE00"',
      '"QUJD',
      'null',
      '42',
      '["QUJD"]',
    ];
    const next = random(3);
    for (const value of values) {
      const texts = [
        `{"FunctionName":"fn","Code":{"ZipFile":${value}}}`,
        `{"Code":{"ZipFile":${value}},"FunctionName":"fn"}`,
        `{"Code":{"ZipFile":"QUJD","ZipFile":${value}}}`,
        `{"Code":{"ZipFile":${value},"ZipFile":"QUJD"}}`,
        `{"Code": { "ZipFile" : ${value} } , "FunctionName" : "fn" }`,
      ];
      for (const text of texts) {
        const body = Buffer.from(text);
        // Also with a multi-byte character cut in two by the chunk boundary.
        const expected = whole(body, codeZip);
        for (let n = 0; n < 20; n += 1) {
          assert.deepEqual(
            streamed(body, chunksOf(body, next, 1 + (n % 7) * 5), codeZip),
            expected,
            `${text} in chunks (round ${n})`,
          );
        }
      }
    }
  });

  test('a body that cannot be one JSON object is refused as whole, and not kept', () => {
    for (const text of [
      'A'.repeat(100_000),
      '[{"ZipFile":"QUJD"}]',
      '{"Code":{}} {"Code":{}}',
      '"QUJD"',
    ]) {
      const body = Buffer.from(text);
      const lifter = new JsonBlobLifter(body.length);
      for (const chunk of chunksOf(body, random(4), 999)) lifter.push(chunk);
      const { json } = lifter.end();
      assert.ok(json.length <= 14, `kept ${json.length} bytes of ${text.slice(0, 20)}`);
      assert.equal(streamed(body, [body], codeZip), 'InvalidRequestContentException');
      assert.equal(whole(body, codeZip), 'InvalidRequestContentException');
    }
  });

  test('a mark sent by a client is no lifted value', () => {
    const body = Buffer.from(JSON.stringify({ Code: { S3Key: `${LIFTED_MARK}0` } }));
    const lifter = new JsonBlobLifter();
    lifter.push(body);
    const { json, blobs } = lifter.end();
    assert.equal(blobs.length, 0);
    assert.throws(
      () => parseJsonObject(json, blobs).object('Code')?.blob('S3Key'),
      /S3Key is not valid base64/,
    );
  });
});
