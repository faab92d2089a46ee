/** AddPermission's body between the wire (AWS casing) and the model. */
import type { AddPermissionInput } from '../core/resource-policy.js';
import { parseJsonObject } from './wire-reader.js';

/** Reads an AddPermission body. */
export function readAddPermissionInput(body: Buffer): AddPermissionInput {
  const wire = parseJsonObject(body);
  return {
    statementId: wire.string('StatementId'),
    action: wire.string('Action'),
    principal: wire.string('Principal'),
    sourceArn: wire.string('SourceArn'),
    sourceAccount: wire.string('SourceAccount'),
    eventSourceToken: wire.string('EventSourceToken'),
    principalOrgId: wire.string('PrincipalOrgID'),
    functionUrlAuthType: wire.string('FunctionUrlAuthType'),
    invokedViaFunctionUrl: wire.boolean('InvokedViaFunctionUrl'),
    revisionId: wire.string('RevisionId'),
  };
}
