/**
 * A well-behaved internal extension played by the harness on a new environment: it registers for
 * INVOKE while the environment initialises and then keeps asking `/event/next`, as a real one
 * would, so that the environment keeps working and its extension id is live for the fuzz cases.
 * It stops when the environment goes (or refuses it, e.g. registration had already closed).
 */
import type { SocketState } from './socket-book.js';

export async function registerHarnessExtension(
  state: SocketState,
  counts: Map<string, number>,
): Promise<void> {
  const count = (what: string) => counts.set(what, (counts.get(what) ?? 0) + 1);
  const registered = await state.sender.send({
    method: 'POST',
    path: '/2020-01-01/extension/register',
    query: [],
    headers: {
      'lambda-extension-name': 'fz-harness-extension',
      'content-type': 'application/json',
    },
    body: Buffer.from(JSON.stringify({ events: ['INVOKE'] })),
  });
  count(`register ${String(registered.status)}`);
  const id = registered.headers['lambda-extension-identifier'];
  if (registered.status !== 200 || typeof id !== 'string') return;
  state.extensionIds.push(id);
  for (;;) {
    const event = await state.sender.send({
      method: 'GET',
      path: '/2020-01-01/extension/event/next',
      query: [],
      headers: { 'lambda-extension-identifier': id },
      body: Buffer.alloc(0),
    });
    count(`event/next ${String(event.status)}`);
    // No event for a while is normal for an extension; anything else but an event ends it.
    if (event.status !== 200 && event.status !== 'hang') return;
  }
}
