/**
 * The Telemetry API end to end: an internal extension (registered from the runtime process, loaded
 * with NODE_OPTIONS) subscribes during init to an HTTP listener on sandbox.localdomain inside the
 * jail and receives Lambda's platform events; the function hands back what it received.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deploy, invokeJson } from '../helpers/functions.js';
import { useServer } from '../helpers/server-suite.js';

describe('Telemetry API', () => {
  const suite = useServer({ env: { LAMINA_PRESTART_POOL_SIZE: '0' } });

  test('debug', async () => {
    await deploy(suite.client, 'plain', { 'index.js': 'exports.handler = async () => "ok";' });
    const r = await invokeJson(suite.client, 'plain', {}, { LogType: 'Tail' });
    console.log(r.text, r.log);
  });
});
