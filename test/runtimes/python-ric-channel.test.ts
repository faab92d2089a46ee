/**
 * Lamina's Python runtime client over the runtime channel (LAMINA_RUNTIME_SOCKET, a unix socket,
 * as inside Lamina's sandbox): the whole python-ric suite again, with every runtime required to
 * have opened the channel.
 */
process.env['LAMINA_RIC_TEST_TRANSPORT'] = 'channel';
await import('./python-ric.test.js');
