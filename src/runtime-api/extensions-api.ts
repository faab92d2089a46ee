/**
 * The Extensions API (2020-01-01), the Telemetry API (2022-07-01) and the Logs API (2020-08-15) of
 * one environment, served on the same address as the Runtime API. This is the HTTP edge: it reads
 * headers and bodies, validates them with Lambda's error types and messages, and hands the rest to
 * the environment's `ExtensionsHost`. Without a host (a pre-started runtime not yet bound to a
 * function) every path answers 404, as Lambda does when extensions are disabled.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExtensionRefusal, ExtensionsHost } from '../core/extension-protocol.js';
import { refusalStatus } from '../core/runtime-errors.js';
import { discardRest, readBoundedBody } from './bounded-body.js';
import { parseSubscription } from './telemetry-subscription.js';

const EXTENSION = '/2020-01-01/extension/';
const TELEMETRY = '/2022-07-01/telemetry';
const LOGS = '/2020-08-15/logs';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MAX_BODY_BYTES = 1024 * 1024;

/** Whether a path belongs to these APIs. */
export function isExtensionsPath(path: string): boolean {
  return path.startsWith(EXTENSION) || path === TELEMETRY || path === LOGS;
}

/** Serves one request of these APIs. */
export function serveExtensionsApi(
  host: ExtensionsHost | undefined,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): void {
  if (host === undefined) {
    discardRest(req, 0);
    res.writeHead(404).end();
    return;
  }
  const method = req.method ?? '';
  if (method === 'POST' && path === `${EXTENSION}register`) return register(host, req, res);
  const routes: Record<string, (id: string) => void> = {
    [`GET ${EXTENSION}event/next`]: (id) => void next(host, req, res, id),
    [`POST ${EXTENSION}init/error`]: (id) => reportError(host, req, res, id, 'init'),
    [`POST ${EXTENSION}exit/error`]: (id) => reportError(host, req, res, id, 'exit'),
    [`PUT ${TELEMETRY}`]: (id) => subscribe(host, req, res, id, 'telemetry'),
    [`PUT ${LOGS}`]: (id) => subscribe(host, req, res, id, 'logs'),
  };
  const route = routes[`${method} ${path}`];
  if (route === undefined) {
    discardRest(req, 0);
    return refuse(res, {
      errorType: 'UnknownOperation',
      errorMessage: `No such operation: ${method} ${path}`,
    });
  }
  const id = header(req, 'lambda-extension-identifier');
  if (id === undefined || id === '') {
    discardRest(req, 0);
    return refuse(res, {
      errorType: 'Extension.MissingExtensionIdentifier',
      errorMessage: 'Missing Lambda-Extension-Identifier header',
    });
  }
  if (!UUID.test(id)) {
    discardRest(req, 0);
    return refuse(res, {
      errorType: 'Extension.InvalidExtensionIdentifier',
      errorMessage: 'Invalid Lambda-Extension-Identifier',
    });
  }
  route(id.toLowerCase());
}

function register(host: ExtensionsHost, req: IncomingMessage, res: ServerResponse): void {
  const name = header(req, 'lambda-extension-name') ?? '';
  const features = (header(req, 'lambda-extension-accept-feature') ?? '')
    .split(',')
    .map((f) => f.trim());
  readBody(req, res, (body) => {
    if (name === '') {
      return refuse(res, {
        errorType: 'Extension.InvalidExtensionName',
        errorMessage: 'Empty extension name',
      });
    }
    const events = parseRegisterBody(body);
    if (typeof events === 'string') {
      return refuse(res, { errorType: 'InvalidRequestFormat', errorMessage: events });
    }
    const result = host.register(name, events);
    if ('refused' in result) return refuse(res, result.refused);
    const { ok } = result;
    const reply: Record<string, string> = {
      functionName: ok.functionName,
      functionVersion: ok.functionVersion,
      handler: ok.handler,
    };
    if (features.includes('accountId')) reply['accountId'] = ok.accountId;
    json(res, 200, reply, { 'Lambda-Extension-Identifier': ok.id });
  });
}

/** The subscribed events, or why the body is not a registration. */
function parseRegisterBody(body: Buffer): string[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (error) {
    return (error as Error).message;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return 'the request body must be a JSON object';
  const { events, configurationKeys } = parsed as { events?: unknown; configurationKeys?: unknown };
  if (Array.isArray(configurationKeys) && configurationKeys.length > 0)
    return 'configurationKeys are deprecated; use environment variables instead';
  if (events === undefined || events === null) return [];
  if (!Array.isArray(events) || !events.every((e): e is string => typeof e === 'string'))
    return 'events must be an array of strings';
  return events;
}

async function next(
  host: ExtensionsHost,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
): Promise<void> {
  discardRest(req, 0);
  let settled = false;
  res.once('close', () => {
    if (!settled) host.abandonNext(id);
  });
  const result = await host.next(id);
  settled = true;
  if (res.destroyed) return;
  if ('refused' in result) return refuse(res, result.refused);
  json(res, 200, undefined, { 'Lambda-Extension-Event-Identifier': randomUUID() }, result.ok.body);
}

function reportError(
  host: ExtensionsHost,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  phase: 'init' | 'exit',
): void {
  readBody(req, res, () => {
    const errorType = header(req, 'lambda-extension-function-error-type');
    if (errorType === undefined || errorType === '') {
      return refuse(res, {
        errorType: 'Extension.MissingHeader',
        errorMessage: 'Lambda-Extension-Function-Error-Type not found',
      });
    }
    const refused = host.reportError(id, phase, errorType);
    if (refused !== undefined) return refuse(res, refused);
    json(res, 202, { status: 'OK' });
  });
}

function subscribe(
  host: ExtensionsHost,
  req: IncomingMessage,
  res: ServerResponse,
  id: string,
  api: 'telemetry' | 'logs',
): void {
  readBody(req, res, (body) => {
    const parsed = parseSubscription(api, body);
    if ('invalid' in parsed) {
      return refuse(res, {
        errorType: api === 'telemetry' ? 'ValidationError' : 'Logs.ValidationError',
        errorMessage: parsed.invalid,
      });
    }
    const refused = host.subscribe(id, parsed.subscription);
    if (refused !== undefined) return refuse(res, refused);
    json(res, 200, undefined, {}, '"OK"');
  });
}

function readBody(req: IncomingMessage, res: ServerResponse, then: (body: Buffer) => void): void {
  readBoundedBody(req, MAX_BODY_BYTES, (end) => {
    if (end.kind === 'complete') return then(end.body);
    refuse(res, {
      errorType: 'RequestEntityTooLarge',
      errorMessage: `Exceeded maximum allowed payload size (${MAX_BODY_BYTES} bytes).`,
    });
  });
}

function refuse(res: ServerResponse, refusal: ExtensionRefusal): void {
  json(res, refusalStatus(refusal.errorType), {
    errorMessage: refusal.errorMessage,
    errorType: refusal.errorType,
  });
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  raw?: string,
): void {
  const text = raw ?? JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  res.end(text);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}
