/** Reads the configuration members of CreateFunction / UpdateFunctionConfiguration bodies. */
import type { SettingsInput } from '../functions/settings-input.js';
import type { WireObject } from './wire-reader.js';

/** The configuration fields of a request body, type-checked. */
export function readSettings(body: WireObject): SettingsInput {
  const logging = body.object('LoggingConfig');
  const vpc = body.object('VpcConfig');
  const image = body.object('ImageConfig');
  return {
    runtime: body.string('Runtime'),
    handler: body.string('Handler'),
    role: body.string('Role'),
    description: body.string('Description'),
    timeoutSeconds: body.integer('Timeout'),
    memoryMiB: body.integer('MemorySize'),
    ephemeralStorageMiB: body.object('EphemeralStorage')?.integer('Size'),
    environment: readEnvironment(body),
    architectures: body.stringList('Architectures'),
    tracingMode: body.object('TracingConfig')?.string('Mode'),
    logging:
      logging === undefined
        ? undefined
        : {
            format: logging.string('LogFormat'),
            applicationLogLevel: logging.string('ApplicationLogLevel'),
            systemLogLevel: logging.string('SystemLogLevel'),
            logGroup: logging.string('LogGroup'),
          },
    layers: body.stringList('Layers'),
    deadLetterTargetArn: body.object('DeadLetterConfig')?.string('TargetArn'),
    kmsKeyArn: body.string('KMSKeyArn'),
    packageType: body.string('PackageType'),
    snapStartApplyOn: body.object('SnapStart')?.string('ApplyOn'),
    vpcSubnetIds: vpc?.stringList('SubnetIds'),
    fileSystemCount: body.objectList('FileSystemConfigs')?.length,
    imageConfig:
      image === undefined
        ? undefined
        : {
            entryPoint: image.stringList('EntryPoint'),
            command: image.stringList('Command'),
            workingDirectory: image.string('WorkingDirectory'),
          },
  };
}

function readEnvironment(body: WireObject): Record<string, string> | undefined {
  const environment = body.object('Environment');
  if (environment === undefined) return undefined;
  return environment.stringMap('Variables') ?? {};
}
