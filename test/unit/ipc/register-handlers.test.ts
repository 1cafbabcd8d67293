import { describe, expect, expectTypeOf, test } from 'vitest';
import {
  METHODS,
  invokeChannel,
  makeApi,
  type AtelierApi,
  type Contract,
  type Result,
  type Settings,
} from '../../../src-main/ipc/contract.ts';
import { PARSERS } from '../../../src-main/ipc/parsers/index.ts';
import { registerHandlers } from '../../../src-main/ipc/register-handlers.ts';
import { SETTINGS_DEFAULTS } from '../../../src-main/services/settings/settings-schema.ts';

type Handler = (event: unknown, ...args: unknown[]) => unknown;
const ok = <T>(value: T) => ({ ok: true as const, value });
const settings: Settings = SETTINGS_DEFAULTS('/m', '/c');

/** Every method records its call, except a few that fail in the ways the tests need. */
function fakeServices(calls: string[]): Contract {
  const services: Record<string, Record<string, (...a: unknown[]) => Promise<unknown>>> = {};
  for (const [ns, methods] of Object.entries(METHODS)) {
    services[ns] = Object.fromEntries(
      Object.keys(methods).map((m) => [
        m,
        async (...a: unknown[]) => {
          calls.push(`${ns}.${m}:${JSON.stringify(a)}`);
          return ok(undefined);
        },
      ]),
    );
  }
  services.settings!.get = async () => ok(settings);
  services.settings!.update = async () => {
    throw Object.assign(new Error('disk went away'), { code: 'EROFS' });
  };
  services.jobs!.list = async () => {
    throw new Error('boom');
  };
  return services as unknown as Contract;
}

function register(calls: string[] = [], unexpected: unknown[] = []) {
  const handlers = new Map<string, Handler>();
  const registered: string[] = [];
  registerHandlers(
    {
      handle: (ch, fn) => {
        registered.push(ch);
        handlers.set(ch, fn);
      },
    },
    fakeServices(calls),
    PARSERS,
    (e) => unexpected.push(e),
  );
  return { handlers, registered };
}

describe('registerHandlers', () => {
  test('registers exactly one handler per contract method', () => {
    const { registered } = register();
    const expected = Object.entries(METHODS).flatMap(([ns, ms]) => Object.keys(ms).map((m) => invokeChannel(ns, m)));
    expect(registered.sort()).toEqual(expected.sort());
    expect(new Set(registered).size).toBe(registered.length);
  });

  test('passes validated arguments to the service', async () => {
    const calls: string[] = [];
    const { handlers } = register(calls);
    await handlers.get(invokeChannel('jobs', 'probe'))!({}, { size: 8, runs: 2 });
    expect(calls).toEqual(['jobs.probe:[{"size":8,"runs":2}]']);
  });

  test.each([
    ['a wrong type', 'jobs', 'probe', [{ size: 'big', runs: 1 }], /size must be a number/],
    ['an unexpected field', 'jobs', 'probe', [{ size: 1, runs: 1, evil: true }], /evil is not expected/],
    ['too many arguments', 'app', 'info', [1], /expected 0 argument/],
    ['an unknown setting value', 'settings', 'update', [{ theme: 'purple' }], /theme must be one of/],
    ['a non-web link', 'app', 'openExternal', ['file:///etc/passwd'], /http\(s\) link/],
    ['a providers call without its refresh flag', 'app', 'providers', [{}], /refresh must be true or false/],
  ])('rejects %s with invalid-request and never calls the service', async (_name, ns, method, args, message) => {
    const calls: string[] = [];
    const { handlers } = register(calls);
    const r = (await handlers.get(invokeChannel(ns, method))!({}, ...args)) as Result<unknown>;
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('invalid-request');
      expect(r.error.message).toMatch(message);
    }
    expect(calls).toEqual([]);
  });

  test('a service failure with a known code becomes that typed error', async () => {
    const { handlers } = register();
    const r = await handlers.get(invokeChannel('settings', 'update'))!({}, { theme: 'dark' });
    expect(r).toEqual({ ok: false, error: { code: 'read-only', message: 'disk went away' } });
  });

  test('an unexpected failure becomes internal and is reported to the caller', async () => {
    const unexpected: unknown[] = [];
    const { handlers } = register([], unexpected);
    const r = await handlers.get(invokeChannel('jobs', 'list'))!({});
    expect(r).toEqual({ ok: false, error: { code: 'internal', message: 'boom' } });
    expect(unexpected).toHaveLength(1);
  });
});

describe('makeApi', () => {
  test('routes every method to its channel and events to their channel', async () => {
    const invoked: [string, unknown[]][] = [];
    const subscribed: string[] = [];
    const api = makeApi({
      invoke: async (channel, args) => {
        invoked.push([channel, args]);
        return ok(null);
      },
      subscribe: (channel) => {
        subscribed.push(channel);
        return () => {};
      },
    });
    await api.jobs.cancel('j1');
    await api.settings.update({ theme: 'dark' });
    api.on('job.progress', () => {});
    expect(invoked).toEqual([
      ['atelier:jobs.cancel', ['j1']],
      ['atelier:settings.update', [{ theme: 'dark' }]],
    ]);
    expect(subscribed).toEqual(['atelier:event:job.progress']);
  });

  test('is typed from the contract', () => {
    expectTypeOf<Awaited<ReturnType<AtelierApi['settings']['get']>>>().toEqualTypeOf<Result<Settings>>();
  });
});
