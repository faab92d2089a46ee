/** Registry logins: host names as image URIs write them, passwords kept apart from answers. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RegistryService,
  type RegistryLogin,
  type RegistryLoginRepository,
} from '../../src/functions/registry-service.js';
import { LambdaError } from '../../src/core/errors.js';

class MemoryLogins implements RegistryLoginRepository {
  readonly rows = new Map<string, { login: RegistryLogin; password: string }>();
  put(login: RegistryLogin, password: string): Promise<void> {
    this.rows.set(login.host, { login, password });
    return Promise.resolve();
  }
  get(host: string) {
    return Promise.resolve(this.rows.get(host));
  }
  delete(host: string): Promise<boolean> {
    return Promise.resolve(this.rows.delete(host));
  }
  list(): Promise<RegistryLogin[]> {
    return Promise.resolve([...this.rows.values()].map((row) => row.login));
  }
}

const repository = new MemoryLogins();
const service = new RegistryService(repository, { now: () => 1_000 });

test('a login is stored per host (lower-cased) and looked up for pulls', async () => {
  const login = await service.login('Registry.Example.com:5000', 'deploy', 's3cret');
  assert.deepEqual(login, {
    host: 'registry.example.com:5000',
    username: 'deploy',
    updatedMs: 1_000,
  });
  assert.deepEqual(await service.lookup('registry.example.com:5000'), {
    username: 'deploy',
    password: 's3cret',
  });
  assert.equal(await service.lookup('other.example.com'), undefined);
  assert.ok(!JSON.stringify(await service.list()).includes('s3cret'));
  await service.login('[::1]:5000', 'a', 'b');
  await service.logout('[::1]:5000');
});

test('bad hosts, users and passwords are refused; unknown hosts are not found', async () => {
  const refused = async (work: () => Promise<unknown>, code: string) => {
    await assert.rejects(
      work,
      (error: unknown) => error instanceof LambdaError && error.code === code,
    );
  };
  await refused(() => service.login('https://host', 'u', 'p'), 'InvalidParameterValueException');
  await refused(() => service.login('host/repo', 'u', 'p'), 'InvalidParameterValueException');
  await refused(() => service.login('h'.repeat(300), 'u', 'p'), 'InvalidParameterValueException');
  await refused(() => service.login('host', '', 'p'), 'InvalidParameterValueException');
  await refused(
    () => service.login('host', 'u', 'p'.repeat(9000)),
    'InvalidParameterValueException',
  );
  await refused(() => service.logout('nothing.example'), 'ResourceNotFoundException');
  await refused(() => service.get('nothing.example'), 'ResourceNotFoundException');
});
