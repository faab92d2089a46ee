/** Which managed runtimes this Lamina can run, and the errors for the ones it cannot. */
import { lambdaErrors } from '../core/errors.js';

/** Runtimes AWS retired; creating or updating to them is refused with AWS's message. */
const DEPRECATED = new Set([
  'java8',
  'go1.x',
  'provided',
  'ruby2.7',
  'ruby2.5',
  'nodejs',
  'nodejs4.3',
  'nodejs6.10',
  'nodejs8.10',
  'nodejs10.x',
  'nodejs12.x',
  'nodejs14.x',
  'python2.7',
  'python3.6',
  'python3.7',
  'dotnetcore1.0',
  'dotnetcore2.0',
  'dotnetcore2.1',
  'dotnetcore3.1',
]);

/** The runtimes of this host, e.g. `nodejs20.x`, `python3.11`, `provided.al2023`, `provided.al2`. */
export class RuntimeCatalog {
  readonly supported: readonly string[];

  constructor(supported: readonly string[]) {
    this.supported = supported;
  }

  /** Throws InvalidParameterValueException unless the runtime can run here. */
  check(runtime: string): void {
    if (this.supported.includes(runtime)) return;
    if (DEPRECATED.has(runtime)) {
      throw lambdaErrors.invalidParameter(
        `The runtime parameter of ${runtime} is no longer supported for creating or updating ` +
          'AWS Lambda functions. We recommend you use a supported runtime while creating or ' +
          'updating functions.',
      );
    }
    throw lambdaErrors.invalidParameter(
      `Value ${runtime} at 'runtime' failed to satisfy constraint: Member must satisfy enum ` +
        `value set: [${this.supported.join(', ')}] or be a valid ARN`,
    );
  }
}
