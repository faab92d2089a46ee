/**
 * AWS's Query protocol (IAM, STS): form-encoded requests (`Action=…&Version=…`, lists as
 * `Name.member.N`), XML answers (`<OpResponse xmlns=…><OpResult>…</OpResult><ResponseMetadata>`)
 * and XML errors (`<ErrorResponse><Error><Type>Sender</Type><Code>…`).
 */
import { XMLBuilder } from 'fast-xml-parser';
import { QueryApiError } from '../core/iam-model.js';
import { LambdaError } from '../core/errors.js';

export type QueryService = 'iam' | 'sts';

export const QUERY_NAMESPACES: Record<QueryService, string> = {
  iam: 'https://iam.amazonaws.com/doc/2010-05-08/',
  sts: 'https://sts.amazonaws.com/doc/2011-06-15/',
};

export const QUERY_VERSIONS: Record<QueryService, string> = {
  iam: '2010-05-08',
  sts: '2011-06-15',
};

/** A request's parameters. */
export class QueryParams {
  readonly #values: URLSearchParams;

  constructor(body: Uint8Array) {
    this.#values = new URLSearchParams(Buffer.from(body).toString('utf8'));
  }

  get(name: string): string | undefined {
    return this.#values.get(name) ?? undefined;
  }

  /** `Name.member.1`, `Name.member.2`… in order. */
  list(name: string): string[] {
    const values: string[] = [];
    for (let i = 1; ; i += 1) {
      const value = this.#values.get(`${name}.member.${i}`);
      if (value === null) return values;
      values.push(value);
    }
  }
}

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressBooleanAttributes: false,
});

/** A value of a result: text, a date, a number, a boolean, a nested element, or a list of them. */
export type QueryValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | { readonly [name: string]: QueryValue }
  | readonly QueryValue[];

/** Lists become `<member>` children; dates are ISO 8601 (no fraction); undefined is left out. */
function toXmlTree(value: QueryValue): unknown {
  if (value === undefined) return undefined;
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(value)) return { member: value.map((item: QueryValue) => toXmlTree(item)) };
  if (typeof value === 'object') {
    const tree: Record<string, unknown> = {};
    for (const [name, child] of Object.entries(value as Record<string, QueryValue>)) {
      if (child !== undefined) tree[name] = toXmlTree(child);
    }
    return tree;
  }
  return String(value);
}

/** The XML answer of `operation`; `result` undefined for operations without output. */
export function renderQueryResult(
  service: QueryService,
  operation: string,
  result: Record<string, QueryValue> | undefined,
  requestId: string,
): string {
  return builder.build({
    [`${operation}Response`]: {
      '@_xmlns': QUERY_NAMESPACES[service],
      ...(result === undefined ? {} : { [`${operation}Result`]: toXmlTree(result) }),
      ResponseMetadata: { RequestId: requestId },
    },
  });
}

/** A Lambda-side error (a signature refused before the body was read) under IAM's codes. */
const SIGNATURE_CODES: Record<string, string> = {
  InvalidSignatureException: 'SignatureDoesNotMatch',
  UnrecognizedClientException: 'InvalidClientTokenId',
  ExpiredTokenException: 'ExpiredToken',
  MissingAuthenticationTokenException: 'MissingAuthenticationToken',
  IncompleteSignatureException: 'IncompleteSignature',
};

/** The XML error answer and its status. */
export function renderQueryError(
  service: QueryService,
  error: unknown,
  requestId: string,
): { status: number; body: string } {
  let code = 'ServiceFailure';
  let status = 500;
  let message = 'An internal error occurred; the server log has the details.';
  if (error instanceof QueryApiError) {
    ({ code, status, message } = error);
  } else if (error instanceof LambdaError) {
    code = SIGNATURE_CODES[error.name] ?? error.name.replace(/Exception$/, '');
    status = error.spec.status;
    message = error.message;
  }
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    body: builder.build({
      ErrorResponse: {
        '@_xmlns': QUERY_NAMESPACES[service],
        Error: { Type: type, Code: code, Message: message },
        RequestId: requestId,
      },
    }),
  };
}
