import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, test } from 'vitest';
import { httpGet } from '../../../../src-main/services/models/http-get.ts';
import { MemorySink } from '../../../helpers/memory-sink.ts';

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

test('follows redirects, asking for raw bytes; the token goes to the hub but never to another origin (the CDN)', async () => {
  const seen: IncomingHttpHeaders[] = [];
  const cdn = await listen((req, res) => {
    seen.push(req.headers);
    res.end('bytes');
  });
  const hub = await listen((req, res) => {
    seen.push(req.headers);
    if (req.url === '/first') return void res.writeHead(307, { location: '/second' }).end();
    res.writeHead(302, { location: `${cdn}/object?signed=1` }).end();
  });
  const res = await httpGet(`${hub}/first`, { headers: { authorization: 'Bearer hf_x', range: 'bytes=2-' } });
  const sink = new MemorySink();
  await res.readBody(sink);
  expect([res.status, sink.text()]).toEqual([200, 'bytes']);
  expect(seen.map((h) => h.authorization ?? null)).toEqual(['Bearer hf_x', 'Bearer hf_x', null]);
  expect(seen.every((h) => h.range === 'bytes=2-' && h['accept-encoding'] === 'identity')).toBe(true);
});

test('a redirect loop ends with an error instead of spinning', async () => {
  const loop = await listen((_req, res) => res.writeHead(302, { location: '/again' }).end());
  await expect(httpGet(`${loop}/start`, { maxRedirects: 3 })).rejects.toThrow(/more than 3 redirects/);
});
