// Builds a function's deployment package (one index.js) in memory with yazl.
import { Buffer } from 'node:buffer';
import yazl from 'yazl';

export async function functionZip(source) {
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from(source), 'index.js', { mtime: new Date(0) });
  zip.end();
  const chunks = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
