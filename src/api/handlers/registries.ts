/**
 * Lamina's container registry logins (`/lamina/2026-11-01/registries`): store a user name and
 * password for a registry host, list, describe and remove. Answers never contain the password.
 */
import type { RegistryLogin } from '../../functions/registry-service.js';
import { param, type Handler } from '../api-types.js';
import { parseJsonObject } from '../wire-reader.js';

function toLogin(login: RegistryLogin): Record<string, unknown> {
  return {
    Host: login.host,
    Username: login.username,
    Updated: new Date(login.updatedMs).toISOString(),
  };
}

export const putRegistryLogin: Handler = async (ctx, req) => {
  const wire = parseJsonObject(req.body);
  const login = await ctx.registries.login(
    param(req, 'Host'),
    wire.string('Username'),
    wire.string('Password'),
  );
  return { status: 200, json: toLogin(login) };
};

export const getRegistryLogin: Handler = async (ctx, req) => {
  return { status: 200, json: toLogin(await ctx.registries.get(param(req, 'Host'))) };
};

export const listRegistryLogins: Handler = async (ctx) => {
  return { status: 200, json: { Registries: (await ctx.registries.list()).map(toLogin) } };
};

export const deleteRegistryLogin: Handler = async (ctx, req) => {
  await ctx.registries.logout(param(req, 'Host'));
  return { status: 204 };
};
