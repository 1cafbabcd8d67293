import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { HttpConnection } from '../../../../src-main/services/models/http-connection.ts';
import { ConnectionPool, httpGet } from '../../../../src-main/services/models/http-get.ts';
import { MemorySink } from '../../../helpers/memory-sink.ts';
import { waitFor } from '../../../helpers/wait-for.ts';

const tlsDir = join(import.meta.dirname, '../../../fixtures/tls');

interface Listening {
  url: string;
  /** Every TCP connection the server accepted, in order. */
  sockets: Socket[];
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

async function listen(server: Server, scheme = 'http', host = '127.0.0.1'): Promise<Listening> {
  const sockets: Socket[] = [];
  server.on('connection', (s: Socket) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, host, r));
  cleanups.push(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });
  return { url: `${scheme}://${host}:${(server.address() as AddressInfo).port}`, sockets };
}

const httpServer = (handler: RequestListener) => listen(createHttpServer(handler));

/** A server that answers each request (read up to its blank line) with `answer`, writing raw bytes. */
function rawServer(answer: (socket: Socket, request: string, index: number) => void): Promise<Listening> {
  return listen(
    createNetServer((socket) => {
      let pending = '';
      let index = 0;
      socket.on('data', (d: Buffer) => {
        pending += d.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const request = pending.slice(0, end);
          pending = pending.slice(end + 4);
          answer(socket, request, index++);
        }
      });
      socket.on('error', () => {});
    }),
  );
}

/** Writes `parts` one per event-loop turn, so that they reach the client as separate reads. */
async function trickle(socket: Socket, parts: (string | Buffer)[]): Promise<void> {
  for (const p of parts) {
    if (socket.destroyed) return;
    socket.write(p);
    await new Promise((r) => setTimeout(r, 1));
  }
}

function slices(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.byteLength; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

async function getBody(url: string, opts: Parameters<typeof httpGet>[1] = {}, sink = new MemorySink()) {
  const res = await httpGet(url, opts);
  await res.readBody(sink);
  return { status: res.status, sink };
}

describe('bodies reach the sink whole and in order', () => {
  test('a body of known length arriving in many small writes', async () => {
    const body = randomBytes(20_000);
    const server = await rawServer((socket) => {
      void trickle(socket, [`HTTP/1.1 200 OK\r\nContent-Length: ${body.byteLength}\r\n\r\n`, ...slices(body, 700)]);
    });
    const { status, sink } = await getBody(`${server.url}/f`);
    expect(status).toBe(200);
    expect(sink.bytes().equals(body)).toBe(true);
  });

  test('a chunked body from a node server that writes without a length', async () => {
    const body = randomBytes(100_000);
    const server = await httpServer((_req, res) => {
      for (const part of slices(body, 3_000)) res.write(part);
      res.end();
    });
    const { sink } = await getBody(`${server.url}/f`);
    expect(sink.bytes().equals(body)).toBe(true);
  });

  test('a chunked body with chunk extensions and trailers, split byte by byte; the connection then serves again', async () => {
    const chunked = '5;name=value\r\nhello\r\n6 ; x\r\n world\r\n0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\n';
    const server = await rawServer((socket, _req, index) => {
      if (index === 0)
        void trickle(socket, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', ...chunked.split('')]);
      else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext');
    });
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    expect((await getBody(`${server.url}/a`, { pool })).sink.text()).toBe('hello world');
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('next');
    expect(server.sockets).toHaveLength(1);
  });

  test('a body without length or chunking is read until the server closes', async () => {
    const body = randomBytes(50_000);
    const server = await rawServer((socket) => {
      void trickle(socket, ['HTTP/1.1 200 OK\r\n\r\n', ...slices(body, 4_000)]).then(() => socket.end());
    });
    const { sink } = await getBody(`${server.url}/f`);
    expect(sink.bytes().equals(body)).toBe(true);
  });

  test('a 100 Continue head before the real answer is skipped', async () => {
    const server = await rawServer((socket) => {
      void trickle(socket, [
        'HTTP/1.1 100 Continue\r\n\r\n',
        'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Real: yes\r\n\r\nok',
      ]);
    });
    const res = await httpGet(`${server.url}/f`);
    const sink = new MemorySink();
    await res.readBody(sink);
    expect([res.status, res.header('x-real'), sink.text()]).toEqual([200, 'yes', 'ok']);
  });

  test.each([
    ['Content-Length', (body: Buffer) => `Content-Length: ${body.byteLength}`],
    ['chunked', () => 'Transfer-Encoding: chunked'],
  ])('a sink with tiny spaces and sometimes none still gets every byte in order (%s)', async (_name, header) => {
    const body = randomBytes(60_000);
    const chunkedBody = (b: Buffer) =>
      Buffer.concat([
        ...slices(b, 5_000).map((s) =>
          Buffer.from(`${s.byteLength.toString(16)}\r\n${s.toString('latin1')}\r\n`, 'latin1'),
        ),
        Buffer.from('0\r\n\r\n'),
      ]);
    const server = await rawServer((socket) => {
      const wire = header(body).startsWith('Transfer') ? chunkedBody(body) : body;
      void trickle(socket, [`HTTP/1.1 200 OK\r\n${header(body)}\r\n\r\n`, ...slices(wire, 9_000)]);
    });
    const starved = new MemorySink(Number.POSITIVE_INFINITY, (offer) => (offer % 3 === 0 ? 0 : 1 + (offer % 97)));
    const { sink } = await getBody(`${server.url}/f`, {}, starved);
    expect(sink.bytes().equals(body)).toBe(true);
  });
});

describe('keep-alive', () => {
  test('two requests through one pool share one TCP connection', async () => {
    const server = await httpServer((req, res) => res.end(`body of ${req.url}`));
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    expect((await getBody(`${server.url}/a`, { pool })).sink.text()).toBe('body of /a');
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('body of /b');
    expect(server.sockets).toHaveLength(1);
  });

  test('when the server has closed an idle kept-alive connection, the next request succeeds on a fresh one', async () => {
    const server = await httpServer((req, res) => res.end(`body of ${req.url}`));
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    await getBody(`${server.url}/a`, { pool });
    const first = server.sockets[0]!;
    first.destroy();
    await waitFor(() => first.closed, 'the server to close the idle connection');
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('body of /b');
    expect(server.sockets).toHaveLength(2);
  });

  test('a request that meets the server closing the kept-alive connection is sent again on a fresh one', async () => {
    // The close crosses the request on the wire, so the client cannot have seen it before sending.
    const server = await rawServer((socket, _req, index) => {
      if (index > 0) return void socket.destroy();
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${server.sockets.length === 1 ? 'ok' : 'OK'}`);
    });
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    await getBody(`${server.url}/a`, { pool });
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('OK');
    expect(server.sockets).toHaveLength(2);
  });

  test('a kept-alive connection on which the server spoke unasked (a 408 on idle timeout) is not reused', async () => {
    const server = await rawServer((socket, req) =>
      socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n${req.startsWith('GET /a') ? 'ok' : 'OK'}`),
    );
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    await getBody(`${server.url}/a`, { pool });
    // Only now, so that it cannot arrive with the first answer.
    const timeout = 'HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n';
    const idle = server.sockets[0]!;
    const before = idle.bytesWritten;
    idle.write(timeout);
    await waitFor(() => idle.bytesWritten === before + timeout.length, 'the server to send its 408');
    await new Promise((r) => setTimeout(r, 20));
    const { status, sink } = await getBody(`${server.url}/b`, { pool });
    expect([status, sink.text()]).toEqual([200, 'OK']);
    expect(server.sockets).toHaveLength(2);
  });

  test('an answer with Connection: close is not reused, even while the server leaves the socket open', async () => {
    // A reused socket would get the second answer, which only a reused socket can ask for.
    const server = await rawServer((socket, _req, index) =>
      socket.write(
        `HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\n${index === 0 ? 'fresh' : 'stale'}`,
      ),
    );
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    expect((await getBody(`${server.url}/a`, { pool })).sink.text()).toBe('fresh');
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('fresh');
    expect(server.sockets).toHaveLength(2);
  });

  test.each([
    ['Content-Length', 'Content-Length: 5\r\n\r\nhello'],
    ['chunked', 'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n'],
  ])('bytes after the end of a body (%s) keep that connection from being reused', async (_name, answer) => {
    const server = await rawServer((socket, _req, index) =>
      socket.write(index === 0 ? `HTTP/1.1 200 OK\r\n${answer}EXTRA` : `HTTP/1.1 200 OK\r\n${answer}`),
    );
    const pool = new ConnectionPool();
    cleanups.push(() => pool.close());
    expect((await getBody(`${server.url}/a`, { pool })).sink.text()).toBe('hello');
    expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('hello');
    expect(server.sockets).toHaveLength(2);
  });

  test.each([
    ['Content-Length', true],
    ['chunked', false],
  ])(
    'a sink that wants less than the body stops there, and that connection is not reused (%s)',
    async (_name, sized) => {
      const body = randomBytes(200_000);
      const server = await httpServer((_req, res) =>
        res.writeHead(200, sized ? { 'content-length': body.byteLength } : {}).write(body, () => res.end()),
      );
      const pool = new ConnectionPool();
      cleanups.push(() => pool.close());
      const { sink } = await getBody(`${server.url}/f`, { pool }, new MemorySink(1_000));
      expect(sink.bytes().equals(body.subarray(0, 1_000))).toBe(true);
      await getBody(`${server.url}/f`, { pool });
      expect(server.sockets).toHaveLength(2);
    },
  );
});

describe('broken answers fail with a clear error instead of hanging', () => {
  // The server keeps each connection open, so only the client's own judgement can end the request.
  test.each([
    ['a head over 64 KiB', `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`, /response head .* over 64 KiB/],
    [
      'a malformed status line',
      'HTTP/1.1 OK 200\r\nContent-Length: 1\r\n\r\nx',
      /not an HTTP\/1.x response: "HTTP\/1.1 OK 200"/,
    ],
    ['a malformed header', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n', /malformed response header/],
    [
      'a conflicting Content-Length',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
      /invalid Content-Length: 5, 6/,
    ],
  ])('%s', async (_name, answer, message) => {
    const server = await rawServer((socket) => socket.write(answer));
    await expect(httpGet(`${server.url}/f`)).rejects.toThrow(message);
  });

  test('a body cut short rejects with ECONNRESET, and the bytes that came are in the sink', async () => {
    const body = randomBytes(10_000);
    const server = await rawServer((socket) => {
      void trickle(socket, [
        `HTTP/1.1 200 OK\r\nContent-Length: ${body.byteLength}\r\n\r\n`,
        body.subarray(0, 4_000),
      ]).then(() => socket.end());
    });
    const res = await httpGet(`${server.url}/f`);
    const sink = new MemorySink();
    await expect(res.readBody(sink)).rejects.toMatchObject({ code: 'ECONNRESET', message: /closed the connection/ });
    expect(sink.bytes().equals(body.subarray(0, 4_000))).toBe(true);
  });

  test('an abort signal mid-body rejects the read', async () => {
    const server = await httpServer((_req, res) => {
      res.writeHead(200, { 'content-length': 1_000_000 }).write(Buffer.alloc(10_000));
    });
    const abort = new AbortController();
    const res = await httpGet(`${server.url}/f`, { signal: abort.signal });
    const sink = new MemorySink();
    const reading = res.readBody(sink);
    await waitFor(() => sink.received === 10_000, 'the first bytes');
    abort.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('an abort signal ends a request wherever it waits', () => {
  test('for an answer that never comes', async () => {
    const server = await rawServer(() => {});
    const abort = new AbortController();
    const pending = httpGet(`${server.url}/f`, { signal: abort.signal });
    await waitFor(() => server.sockets.length === 1, 'the request to arrive');
    abort.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.sockets).toHaveLength(1);
  });

  test('for room in a sink that never gets any (a stuck disk)', async () => {
    const server = await httpServer((_req, res) => res.end(Buffer.alloc(100_000)));
    const abort = new AbortController();
    const res = await httpGet(`${server.url}/f`, { signal: abort.signal });
    const stuck = new MemorySink(Number.POSITIVE_INFINITY, () => 0);
    stuck.room = () => new Promise(() => {});
    const reading = res.readBody(stuck);
    abort.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });
});

test('a head of 60 KiB (a long pre-signed Location) is read, and so is its body', async () => {
  const big = 'a'.repeat(60 * 1024);
  const server = await rawServer((socket) =>
    socket.write(`HTTP/1.1 200 OK\r\nX-Big: ${big}\r\nContent-Length: 4\r\n\r\nbody`),
  );
  const res = await httpGet(`${server.url}/f`);
  const sink = new MemorySink();
  await res.readBody(sink);
  expect([res.header('x-big') === big, sink.text()]).toEqual([true, 'body']);
});

test('a 204 has no body to wait for, and its connection serves the next request', async () => {
  const server = await rawServer((socket, _req, index) =>
    socket.write(index === 0 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
  );
  const pool = new ConnectionPool();
  cleanups.push(() => pool.close());
  expect((await getBody(`${server.url}/a`, { pool })).sink.text()).toBe('');
  expect((await getBody(`${server.url}/b`, { pool })).sink.text()).toBe('ok');
  expect(server.sockets).toHaveLength(1);
});

describe.each([
  ['Content-Length', 'Content-Length: 5\r\n'],
  ['until close', 'Connection: close\r\n'],
])('a small complete answer whose server closed before readBody (%s)', (_name, framing) => {
  test('still resolves with the whole body', async () => {
    const server = await rawServer((socket) => socket.end(`HTTP/1.1 200 OK\r\n${framing}\r\nhello`));
    const res = await httpGet(`${server.url}/f`);
    await waitFor(() => server.sockets[0]?.writableFinished === true, 'the server to close its side');
    await new Promise((r) => setTimeout(r, 20));
    const sink = new MemorySink();
    await res.readBody(sink);
    expect(sink.text()).toBe('hello');
  });
});

test('HTTPS to a server whose certificate the pool is told to trust', async () => {
  const cert = readFileSync(join(tlsDir, 'cert.pem'));
  const server = createHttpsServer({ cert, key: readFileSync(join(tlsDir, 'key.pem')) }, (req, res) =>
    res.end(`secure ${req.url}`),
  );
  const { url, sockets } = await listen(server, 'https', 'localhost');
  const pool = new ConnectionPool({ ca: cert });
  cleanups.push(() => pool.close());
  expect((await getBody(`${url}/a`, { pool })).sink.text()).toBe('secure /a');
  expect((await getBody(`${url}/b`, { pool })).sink.text()).toBe('secure /b');
  expect(sockets).toHaveLength(1);
  await expect(httpGet(`${url}/c`)).rejects.toThrow(/self[- ]signed/);
});

test('HttpConnection refuses a second request while a body is unread', async () => {
  const server = await httpServer((_req, res) => res.end('x'));
  const connection = HttpConnection.open(new URL(server.url));
  cleanups.push(() => connection.close());
  await connection.request(new URL(`${server.url}/a`), {});
  expect(() => connection.request(new URL(`${server.url}/b`), {})).toThrow(/not ready/);
});
