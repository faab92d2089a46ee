/**
 * Environments' own credentials: new for each environment, a session of the function's role,
 * refused once the environment ends, and answered as expired (not unknown) past their lifetime
 * for a while, then forgotten.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Caller } from '../../src/iam/credential-directory.js';
import { CredentialDirectory } from '../../src/iam/credential-directory.js';
import { FunctionCredentials } from '../../src/server/function-credentials.js';

const ACCOUNT = '123456789012';
const HOUR = 3_600_000;
const MINUTE = 60_000;

function setUp() {
  let now = 1_000_000;
  const clock = { now: () => now };
  const directory = new CredentialDirectory(ACCOUNT, clock);
  const roles = {
    callerOf: (functionName: string, roleArn: string): Promise<Caller> =>
      Promise.resolve({
        kind: 'session',
        principal: {
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${roleArn.split('/').pop() ?? ''}/${functionName}`,
          account: ACCOUNT,
          roleArn,
        },
        userId: `AROAEXAMPLE:${functionName}`,
        roleName: roleArn.split('/').pop() ?? '',
        sessionPolicy: undefined,
      }),
  };
  const credentials = new FunctionCredentials({ directory, roles, clock, lifetimeMs: 4 * HOUR });
  return {
    directory,
    credentials,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const ROLE = `arn:aws:iam::${ACCOUNT}:role/lambda-role`;

describe('FunctionCredentials', () => {
  test("each environment gets its own key, acting as a session of the function's role", async () => {
    const { directory, credentials } = setUp();
    const first = await credentials.issue('env-1', 'fn', ROLE);
    const second = await credentials.issue('env-2', 'fn', ROLE);
    assert.notEqual(first.accessKeyId, second.accessKeyId);
    assert.match(first.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
    assert.equal(directory.secretFor(first.accessKeyId), first.secretAccessKey);
    assert.equal(directory.sessionTokenFor(first.accessKeyId), first.sessionToken);
    assert.equal(
      directory.callerOf(first.accessKeyId)?.principal.arn,
      `arn:aws:sts::${ACCOUNT}:assumed-role/lambda-role/fn`,
    );
  });

  test('a key stops working when its environment ends; other environments keep theirs', async () => {
    const { directory, credentials } = setUp();
    const ended = await credentials.issue('env-1', 'fn', ROLE);
    const live = await credentials.issue('env-2', 'fn', ROLE);
    credentials.revoke('env-1');
    assert.equal(directory.secretFor(ended.accessKeyId), undefined);
    assert.equal(directory.hasExpired(ended.accessKeyId), false);
    assert.equal(directory.secretFor(live.accessKeyId), live.secretAccessKey);
    // Issuing again for the same environment replaces its key.
    const renewed = await credentials.issue('env-2', 'fn', ROLE);
    assert.equal(directory.secretFor(live.accessKeyId), undefined);
    assert.equal(directory.secretFor(renewed.accessKeyId), renewed.secretAccessKey);
  });

  test('past its lifetime a key is expired, then, 15 minutes on, unknown', async () => {
    const { directory, credentials, advance } = setUp();
    const issued = await credentials.issue('env-1', 'fn', ROLE);
    advance(4 * HOUR - 1);
    assert.equal(directory.callerOf(issued.accessKeyId)?.kind, 'session');
    advance(1);
    assert.equal(directory.callerOf(issued.accessKeyId), undefined);
    assert.equal(directory.secretFor(issued.accessKeyId), undefined);
    assert.equal(directory.hasExpired(issued.accessKeyId), true);
    assert.equal(directory.sessionCount(), 0);
    advance(15 * MINUTE);
    directory.sessionCount();
    assert.equal(directory.hasExpired(issued.accessKeyId), false);
  });
});
