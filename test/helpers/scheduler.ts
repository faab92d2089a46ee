/**
 * Driving EventBridge Scheduler on a test server: an SDK call signed with a controllable clock's
 * time (a new client per call: the SDK resets its clock offset from each response's Date), the
 * execution role schedules name, and waiting on the asynchronous queue's committed changes for
 * the events a function received.
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { AsyncEvent } from '../../src/async/async-event.js';
import type { Clock } from '../../src/core/clock.js';
import type { IamService } from '../../src/iam/iam-service.js';
import type { LaminaServer } from '../../src/server/lamina-server.js';
import { untilChanged } from './poll.js';
import { TEST_CREDENTIALS } from './server-process.js';

export const SCHEDULER_ROLE_NAME = 'scheduler-role';
export const SCHEDULER_ROLE = `arn:aws:iam::000000000000:role/${SCHEDULER_ROLE_NAME}`;

/** A trust policy letting EventBridge Scheduler assume a role. */
export const SCHEDULER_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'scheduler.amazonaws.com' },
      Action: 'sts:AssumeRole',
    },
  ],
});

/** Makes the role schedules name (trusting Scheduler), if the server has none yet. */
export async function grantSchedulerRole(iam: IamService): Promise<void> {
  if ((await iam.getRole(SCHEDULER_ROLE_NAME).catch(() => undefined)) === undefined)
    await iam.createRole({
      roleName: SCHEDULER_ROLE_NAME,
      assumeRolePolicyDocument: SCHEDULER_TRUST,
    });
}

/** Runs `call` with a fresh Scheduler client that signs with `clock`'s time. */
export async function withScheduler<T>(
  endpoint: string,
  clock: Clock,
  call: (client: SchedulerClient) => Promise<T>,
): Promise<T> {
  const client = new SchedulerClient({
    endpoint,
    region: 'us-east-1',
    credentials: TEST_CREDENTIALS,
    maxAttempts: 1,
    systemClockOffset: clock.now() - Date.now(),
  });
  try {
    return await call(client);
  } finally {
    client.destroy();
  }
}

/** The events a function received, parsed, oldest first. */
export interface Received {
  readonly requestId: string;
  readonly status: string;
  readonly enqueuedMs: number;
  readonly payload: unknown;
  readonly response: unknown;
}

/** Reads a function's asynchronous events straight from the server's store. */
export async function receivedBy(server: LaminaServer, functionName: string): Promise<Received[]> {
  const page = await server.parts.asyncStore.list(functionName, undefined, undefined, 1000);
  return page.events.map(toReceived).reverse();
}

/** Waits (on every commit of the queue, with a deadline) until `ready` holds of a function's events. */
export function untilReceived(
  server: LaminaServer,
  functionName: string,
  ready: (events: Received[]) => boolean,
  what: string,
  deadlineMs = 60_000,
): Promise<Received[]> {
  const store = server.parts.asyncStore;
  return untilChanged(
    () => receivedBy(server, functionName),
    ready,
    (listener) => store.onChange(listener),
    deadlineMs,
    what,
  );
}

/** Lets the schedule runner look at the store now and waits until it has recorded what was due. */
export async function runnerSettled(server: LaminaServer): Promise<void> {
  server.parts.scheduleRunner.wake();
  await server.parts.scheduleRunner.idle();
}

function toReceived(event: AsyncEvent): Received {
  const parse = (bytes: Buffer | undefined): unknown => {
    if (bytes === undefined) return undefined;
    try {
      return JSON.parse(bytes.toString('utf8')) as unknown;
    } catch {
      return bytes.toString('utf8');
    }
  };
  return {
    requestId: event.requestId,
    status: event.status,
    enqueuedMs: event.enqueuedMs,
    payload: parse(event.payload),
    response: parse(event.response),
  };
}
