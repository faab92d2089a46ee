/**
 * Lamina's Node.js runtime client over the runtime channel (LAMINA_RUNTIME_SOCKET, a unix socket,
 * as inside Lamina's sandbox): the whole nodejs-ric suite again, with every RIC required to have
 * opened the channel.
 */
process.env['LAMINA_RIC_TEST_TRANSPORT'] = 'channel';
await import('./nodejs-ric.test.js');
