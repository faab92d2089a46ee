/**
 * The process of a test host standing in for the internet (started by test-internet.ts inside its
 * own network namespace): HTTP on port 80 answering `hello from the internet` and the path (or,
 * for `/bytes/<n>`, n bytes of zeros, for download benchmarks), and DNS on port 53 answering A
 * queries for `*.internet.test` with its own address. Prints `ready`.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:http';
import dnsPacket from 'dns-packet';

const address = process.argv[2] ?? '127.0.0.1';

const CHUNK = Buffer.alloc(1024 * 1024);

const http = createServer((request, response) => {
  const bytes = /^\/bytes\/(\d+)$/.exec(request.url ?? '');
  if (bytes === null) {
    response.end(`hello from the internet ${request.url ?? ''}`);
    return;
  }
  let left = Number(bytes[1]);
  response.writeHead(200, { 'content-length': left });
  const more = () => {
    while (left > 0) {
      const piece = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
      left -= piece.length;
      if (!response.write(piece)) {
        response.once('drain', more);
        return;
      }
    }
    response.end();
  };
  more();
});
// `::` takes IPv4 connections too (as IPv4-mapped addresses).
http.listen(80, '::', () => {
  const dns = createSocket('udp4');
  dns.on('message', (message, remote) => {
    try {
      const query = dnsPacket.decode(message);
      const question = query.questions?.[0];
      const known = question !== undefined && question.name.endsWith('internet.test');
      const answer = dnsPacket.encode({
        type: 'response',
        id: query.id ?? 0,
        flags: dnsPacket.RECURSION_DESIRED | (known ? 0 : 3),
        questions: query.questions ?? [],
        answers:
          known && question.type === 'A'
            ? [{ type: 'A', name: question.name, ttl: 5, data: address }]
            : [],
      });
      dns.send(answer, remote.port, remote.address);
    } catch {
      // not a DNS query: ignored
    }
  });
  dns.bind(53, '0.0.0.0', () => process.stdout.write('ready\n'));
});
