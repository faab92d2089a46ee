/** The text printed once the server answers: endpoint, credentials and how to use the AWS CLI. */
import type { LaminaServer } from '../server/lamina-server.js';

export function startupBanner(server: LaminaServer): string {
  const { endpoint } = server;
  const lines = [
    `Lamina is listening on ${endpoint}`,
    `  region ${server.config.region}, data in ${server.config.dataDir}`,
    `  Prometheus metrics at ${server.metricsEndpoint} (${
      server.config.metricsToken === undefined ? 'loopback clients only' : 'bearer token'
    })`,
  ];
  if (server.config.unsafePlainProcesses) {
    lines.push(
      '',
      '!!! WARNING: --unsafe-plain-processes: functions run WITHOUT a sandbox, as plain processes',
      '!!! of this user, with no limits. Deploy only code you trust.',
    );
  }
  const credentials = server.credentials;
  if (credentials === undefined) {
    lines.push(
      '',
      '!!! WARNING: --auth none: requests are NOT authenticated. Anyone who can reach this port',
      '!!! can deploy and run code. Use this only for throwaway local work.',
      '',
      'Point the AWS CLI at it (any credentials are accepted):',
      '  export AWS_ACCESS_KEY_ID=any AWS_SECRET_ACCESS_KEY=any',
    );
  } else {
    if (credentials.source === 'generated') {
      lines.push(`  generated a key pair in ${server.config.dataDir}/credentials.json`);
    }
    lines.push(
      '',
      'Point the AWS CLI at it:',
      `  export AWS_ACCESS_KEY_ID=${credentials.accessKeyId}`,
      `  export AWS_SECRET_ACCESS_KEY=${credentials.secretAccessKey}`,
    );
  }
  lines.push(
    `  export AWS_DEFAULT_REGION=${server.config.region}`,
    `  aws lambda list-functions --endpoint-url ${endpoint}`,
    '',
  );
  return `${lines.join('\n')}\n`;
}
