/**
 * The function URL model and its pure rules: the configuration's fields and their validation (with
 * AWS's messages), url ids, and how a URL is written and recognised from a Host header.
 */
import { lambdaErrors } from './errors.js';
import { constraint, validationMessage, type Violation } from './validation-message.js';

export const URL_AUTH_TYPES = ['NONE', 'AWS_IAM'] as const;
export type UrlAuthType = (typeof URL_AUTH_TYPES)[number];
/** Order as AWS prints it in its enum message. */
export const URL_INVOKE_MODES = ['RESPONSE_STREAM', 'BUFFERED'] as const;
export type UrlInvokeMode = (typeof URL_INVOKE_MODES)[number];

/** `Cors` of a URL configuration; absent members are undefined. */
export interface UrlCors {
  readonly allowCredentials?: boolean | undefined;
  readonly allowHeaders?: readonly string[] | undefined;
  readonly allowMethods?: readonly string[] | undefined;
  readonly allowOrigins?: readonly string[] | undefined;
  readonly exposeHeaders?: readonly string[] | undefined;
  /** Seconds, 0–86400. */
  readonly maxAge?: number | undefined;
}

/** One function URL: of the unqualified function or of an alias. */
export interface FunctionUrlConfig {
  readonly functionName: string;
  /** The alias, or undefined for the unqualified function. */
  readonly qualifier: string | undefined;
  /** 32 lower-case letters and digits: the URL's first host label. */
  readonly urlId: string;
  readonly authType: UrlAuthType;
  /** Undefined until a request sets it (it then behaves as BUFFERED, and Get reports BUFFERED). */
  readonly invokeMode: UrlInvokeMode | undefined;
  readonly cors: UrlCors | undefined;
  readonly creationMs: number;
  readonly lastModifiedMs: number;
}

/** The fields of a Create or Update request; undefined means not sent. */
export interface FunctionUrlInput {
  readonly authType?: string | undefined;
  readonly invokeMode?: string | undefined;
  readonly cors?: UrlCors | undefined;
}

/** The `Qualifier` pattern of the URL operations: an alias name, never a version or `$LATEST`. */
export const URL_QUALIFIER_PATTERN = '((?!^\\d+$)^[0-9a-zA-Z-_]+$)';
const URL_QUALIFIER_RE = /^(?!\d+$)[0-9a-zA-Z_-]+$/;

/** Rejects a qualifier the URL operations do not accept (ValidationException). */
export function checkUrlQualifier(qualifier: string | undefined): void {
  if (qualifier === undefined || URL_QUALIFIER_RE.test(qualifier)) return;
  throw lambdaErrors.validation(
    validationMessage([
      {
        field: 'qualifier',
        value: qualifier,
        constraint: constraint.pattern(URL_QUALIFIER_PATTERN),
      },
    ]),
  );
}

const CORS_LIMITS = {
  headers: 100,
  headerLength: 1024,
  methods: 6,
  methodLength: 6,
  origins: 100,
  originLength: 253,
  maxAge: 86_400,
};

/** Checks enums and Cors limits; `create` also requires `AuthType`. */
export function checkUrlInput(input: FunctionUrlInput, create: boolean): void {
  const violations: Violation[] = [];
  if (input.authType === undefined && create) {
    violations.push({ field: 'authType', value: null, constraint: constraint.notNull() });
  }
  if (input.authType !== undefined && !isOneOf(URL_AUTH_TYPES, input.authType)) {
    violations.push({
      field: 'authType',
      value: input.authType,
      constraint: constraint.enumeration(URL_AUTH_TYPES),
    });
  }
  if (input.invokeMode !== undefined && !isOneOf(URL_INVOKE_MODES, input.invokeMode)) {
    violations.push({
      field: 'invokeMode',
      value: input.invokeMode,
      constraint: constraint.enumeration(URL_INVOKE_MODES),
    });
  }
  const cors = input.cors;
  if (cors !== undefined) {
    const list = (
      field: string,
      values: readonly string[] | undefined,
      max: number,
      itemMax: number,
    ) => {
      if (values === undefined) return;
      if (values.length > max)
        violations.push({ field, value: values, constraint: constraint.maxLength(max) });
      for (const value of values) {
        if (value.length > itemMax || value.length === 0) {
          violations.push({
            field,
            value: values,
            constraint: `Member must satisfy constraint: [Member must have length less than or equal to ${itemMax}, Member must have length greater than or equal to 1]`,
          });
          break;
        }
      }
    };
    list('cors.allowHeaders', cors.allowHeaders, CORS_LIMITS.headers, CORS_LIMITS.headerLength);
    list('cors.exposeHeaders', cors.exposeHeaders, CORS_LIMITS.headers, CORS_LIMITS.headerLength);
    list('cors.allowMethods', cors.allowMethods, CORS_LIMITS.methods, CORS_LIMITS.methodLength);
    list('cors.allowOrigins', cors.allowOrigins, CORS_LIMITS.origins, CORS_LIMITS.originLength);
    if (cors.maxAge !== undefined && (cors.maxAge < 0 || cors.maxAge > CORS_LIMITS.maxAge)) {
      violations.push({
        field: 'cors.maxAge',
        value: cors.maxAge,
        constraint: cors.maxAge < 0 ? constraint.min(0) : constraint.max(CORS_LIMITS.maxAge),
      });
    }
  }
  if (violations.length > 0) throw lambdaErrors.validation(validationMessage(violations));
}

function isOneOf<T extends string>(values: readonly T[], value: string): value is T {
  return (values as readonly string[]).includes(value);
}

const URL_ID_RE = /^[a-z0-9]{32}$/;

/** A url id from a random UUID: its 32 hex digits (a subset of AWS's `[a-z0-9]{32}`). */
export function urlIdFromUuid(uuid: string): string {
  return uuid.replace(/-/g, '').toLowerCase();
}

/**
 * Where function URLs live: `<scheme>://<url-id>.<domain>[:port]/`. The default domain is
 * `lambda-url.<region>.localhost` on the API port; a public base URL replaces it.
 */
export interface UrlBase {
  readonly scheme: string;
  /** The domain after the url id (lower case). */
  readonly domain: string;
  /** `:port` or empty. */
  readonly portSuffix: string;
}

/** The default base, on the API's own port. */
export function defaultUrlBase(region: string, port: number): UrlBase {
  return { scheme: 'http', domain: `lambda-url.${region}.localhost`, portSuffix: `:${port}` };
}

/** A base from a configured public base URL such as `https://lambda-url.example.com`. */
export function parseUrlBase(baseUrl: string): UrlBase {
  const url = new URL(baseUrl);
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '') {
    throw new Error(`The function URL base must be a scheme and host only, got ${baseUrl}`);
  }
  return {
    scheme: url.protocol.replace(/:$/, ''),
    domain: url.hostname.toLowerCase(),
    portSuffix: url.port === '' ? '' : `:${url.port}`,
  };
}

/** The `FunctionUrl` of a url id. */
export function functionUrl(base: UrlBase, urlId: string): string {
  return `${base.scheme}://${urlId}.${base.domain}${base.portSuffix}/`;
}

/**
 * The url id a Host header addresses, or undefined when the host is not a function URL host:
 * `<32 × [a-z0-9]>.<domain>` for one of `domains`, with or without a port.
 */
export function urlIdFromHost(
  host: string | undefined,
  domains: readonly string[],
): string | undefined {
  if (host === undefined) return undefined;
  const name = host.toLowerCase().replace(/:\d+$/, '').replace(/\.$/, '');
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const id = name.slice(0, dot);
  if (!URL_ID_RE.test(id)) return undefined;
  return domains.includes(name.slice(dot + 1)) ? id : undefined;
}

/** True for a well-formed url id (the path form `/lambda-url/<url-id>/…` checks with this). */
export function isUrlId(value: string): boolean {
  return URL_ID_RE.test(value);
}
