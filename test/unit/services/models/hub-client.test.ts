import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { HubClient, nextLink } from '../../../../src-main/services/models/hub-client.ts';
import type { ModelError } from '../../../../src-main/services/models/model-error.ts';
import { FAKE_COMMIT, FakeHub } from '../../../helpers/fake-hub.ts';

const REPO = 'OmniGen2/OmniGen2';
const files = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'transformer/config.json',
  'transformer/a.safetensors',
  'transformer/b.safetensors',
  'vae/config.json',
  'vae/diffusion_pytorch_model.safetensors',
];

let hub: FakeHub;
beforeEach(async () => {
  hub = await FakeHub.start(
    {
      [REPO]: files.map((path, i) => ({ path, lfs: path.endsWith('.safetensors'), content: Buffer.alloc(100 + i, i) })),
    },
    { pageSize: 3 },
  );
});
afterEach(() => hub.close());

/** A fetch that answers one listing page with the given entries. */
const listingFetch =
  (entries: unknown[]): typeof fetch =>
  async (input) => {
    const url = String(input);
    if (url.includes('/revision/')) return Response.json({ sha: FAKE_COMMIT });
    return Response.json(entries);
  };

describe('HubClient', () => {
  test('lists every file across paginated pages (Link: rel="next"), skipping directories, pinned to the commit', async () => {
    const listing = await new HubClient({ endpoint: hub.url }).listing(REPO, 'main');
    expect(listing.commit).toBe(FAKE_COMMIT);
    expect(listing.files.map((f) => f.path).sort()).toEqual([...files].sort());
    expect(hub.requests.filter((r) => r.kind === 'tree').length).toBeGreaterThanOrEqual(3);
    const weights = listing.files.find((f) => f.path === 'transformer/a.safetensors')!;
    expect(weights).toEqual({ path: weights.path, size: 103, sha256: hub.file(REPO, weights.path).sha256 });
    const config = listing.files.find((f) => f.path === 'vae/config.json')!;
    expect(config).toEqual({ path: config.path, size: 105, gitOid: hub.file(REPO, config.path).gitOid });
  });

  test('sends the token as a bearer header to the endpoint and never puts it in an error message', async () => {
    const client = new HubClient({ endpoint: hub.url, token: 'hf_secret123' });
    await client.listing(REPO, 'main');
    expect(hub.requests.every((r) => r.authorization === 'Bearer hf_secret123')).toBe(true);
    const error = await client.listing('nobody/missing', 'main').then(
      () => null,
      (e: ModelError) => e,
    );
    expect(error).toMatchObject({ code: 'not-found' });
    expect(JSON.stringify({ m: error?.message, d: error?.detail })).not.toContain('hf_secret123');
    expect(client.headersFor('https://cdn.example.org/x')).toEqual({}); // another origin never gets it
  });

  test('a missing revision is not-found; 401 says a token may be needed', async () => {
    await expect(new HubClient({ endpoint: hub.url }).listing(REPO, 'v9')).rejects.toMatchObject({ code: 'not-found' });
    const gated = new HubClient({ endpoint: 'https://hub.test', fetch: async () => new Response('', { status: 401 }) });
    await expect(gated.listing(REPO, 'main')).rejects.toThrow(/access token/);
  });

  test('5xx on the listing is retried', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) =>
      ++calls <= 2
        ? new Response('', { status: 502 })
        : listingFetch([{ type: 'file', path: 'a.json', size: 1, oid: 'a'.repeat(40) }])(input, init);
    const client = new HubClient({
      endpoint: 'https://hub.test',
      fetch: flaky,
      retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 },
    });
    expect((await client.listFiles(REPO, FAKE_COMMIT)).map((f) => f.path)).toEqual(['a.json']);
    expect(calls).toBe(3);
  });

  test.each([['../evil.sh'], ['/etc/passwd'], ['a/../../b'], ['C:/x'], ['a\\b'], ['x.part'], ['x.part.ranges']])(
    'a listing path that could escape the model folder is refused: %s',
    async (path) => {
      const client = new HubClient({
        endpoint: 'https://hub.test',
        fetch: listingFetch([{ type: 'file', path, size: 1, oid: 'a'.repeat(40) }]),
      });
      await expect(client.listFiles(REPO, FAKE_COMMIT)).rejects.toMatchObject({ code: 'bad-response' });
    },
  );

  test('entries without a usable checksum or size are refused', async () => {
    const bad = [
      { type: 'file', path: 'a', size: 1, oid: 'xyz' },
      { type: 'file', path: 'b', size: -1, oid: 'a'.repeat(40) },
      { type: 'file', path: 'c', size: 5, lfs: { oid: 'nope', size: 5 } },
    ];
    for (const entry of bad) {
      await expect(
        new HubClient({ endpoint: 'https://hub.test', fetch: listingFetch([entry]) }).listFiles(REPO, FAKE_COMMIT),
      ).rejects.toMatchObject({ code: 'bad-response' });
    }
  });

  test('resolve URLs encode the revision and each path segment', () => {
    const client = new HubClient({ endpoint: 'https://hf-mirror.example/' });
    expect(client.fileUrl(REPO, 'refs/pr/1', 'mllm/model 1.safetensors')).toBe(
      'https://hf-mirror.example/OmniGen2/OmniGen2/resolve/refs%2Fpr%2F1/mllm/model%201.safetensors',
    );
    expect(() => new HubClient({ endpoint: 'ftp://x' })).toThrow(/http/);
    expect(() => client.fileUrl('not a repo', 'main', 'a')).toThrow(/owner\/name/);
  });

  test('nextLink reads RFC 8288 headers, relative or absolute', () => {
    expect(nextLink('<https://h/api?cursor=2>; rel="next"', 'https://h/api')).toBe('https://h/api?cursor=2');
    expect(nextLink('</api/x?c=3>; rel="prev", </api/x?c=5>; rel=next', 'https://h/api/x')).toBe('https://h/api/x?c=5');
    expect(nextLink(null, 'https://h')).toBeNull();
  });
});
