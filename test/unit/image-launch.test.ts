/** How an image function starts: ENTRYPOINT, CMD, WORKDIR and ENV under ImageConfig. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FunctionSettings } from '../../src/core/function-model.js';
import { imageEnvironment, imageLaunch } from '../../src/environment/image-launch.js';

const config = {
  entrypoint: ['/lambda-entrypoint.sh'],
  cmd: ['index.handler'],
  env: ['PATH=/usr/local/bin:/usr/bin', 'LANG=C.UTF-8', 'EMPTY=', 'BROKEN', 'LANG=en_US.UTF-8'],
  workingDir: '/var/task',
};
const settings = (image: FunctionSettings['image']) => ({ image }) as FunctionSettings;

test("the image's own entry point, command and folder", () => {
  const launch = imageLaunch({ rootDir: '/r', config }, settings({ uri: 'h/r:t' }));
  assert.deepEqual(launch.command, ['/lambda-entrypoint.sh', 'index.handler']);
  assert.equal(launch.workingDirectory, '/var/task');
  assert.equal(launch.rootDir, '/r');
  assert.equal(launch.prestart, false);
  assert.deepEqual(launch.env, {
    PATH: '/usr/local/bin:/usr/bin',
    LANG: 'en_US.UTF-8',
    EMPTY: '',
  });
});

test('ImageConfig replaces each part on its own', () => {
  const command = imageLaunch(
    { rootDir: '/r', config },
    settings({ uri: 'h/r:t', command: ['other.handler'] }),
  );
  assert.deepEqual(command.command, ['/lambda-entrypoint.sh', 'other.handler']);
  const entry = imageLaunch(
    { rootDir: '/r', config },
    settings({ uri: 'h/r:t', entryPoint: ['/bin/app', '-v'], workingDirectory: '/srv' }),
  );
  assert.deepEqual(entry.command, ['/bin/app', '-v', 'index.handler']);
  assert.equal(entry.workingDirectory, '/srv');
});

test('an image without WORKDIR starts in / (the sandbox default); none at all is empty', () => {
  const bare = imageLaunch(
    { rootDir: '/r', config: { entrypoint: undefined, cmd: undefined, env: [], workingDir: '' } },
    settings({ uri: 'h/r:t' }),
  );
  assert.deepEqual(bare.command, []);
  assert.equal(bare.workingDirectory, undefined);
  assert.deepEqual(imageEnvironment(['=x', 'A=b=c']), { A: 'b=c' });
});
