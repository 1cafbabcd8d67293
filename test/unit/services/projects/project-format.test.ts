import { createHash } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import type { ProjectDocument } from '../../../../src-main/ipc/contract.ts';
import { ProjectError } from '../../../../src-main/services/projects/project-errors.ts';
import { FORMAT_VERSION, decodeProject, encodeProject } from '../../../../src-main/services/projects/project-format.ts';
import { imageRefs } from '../../../../src-main/services/projects/project-schema.ts';
import { flipByte, sampleProject } from './project-fixtures.ts';

function encoded(document: ProjectDocument, images: Map<string, Uint8Array>): Buffer {
  return Buffer.concat(encodeProject(document, images).chunks);
}
const sample = () => {
  const { document, images } = sampleProject();
  return { document, images: new Map(images.map((i) => [i.hash, i.bytes])) };
};
function decodeError(bytes: Uint8Array): ProjectError {
  try {
    decodeProject(bytes, 'test.atelier');
  } catch (e) {
    if (e instanceof ProjectError) return e;
    throw e;
  }
  throw new Error('decodeProject accepted the bytes');
}

describe('.atelier container', () => {
  test('round trip gives back the same document and images', () => {
    const { document, images } = sample();
    const bytes = encoded(document, images);
    expect(bytes.length).toBe(encodeProject(document, images).sizeBytes);
    const back = decodeProject(bytes, 'test.atelier');
    expect(back.formatVersion).toBe(FORMAT_VERSION);
    expect(back.document).toEqual(document);
    expect(new Map([...back.images].map(([h, b]) => [h, Buffer.from(b)]))).toEqual(
      new Map([...images].map(([h, b]) => [h, Buffer.from(b)])),
    );
  });

  test('a format-1 file (before chat) opens with no conversations; everything else as it was', () => {
    const { document, images } = sample();
    const { conversations: _, ...v1Document } = document;
    const bytes = encoded(v1Document as ProjectDocument, images);
    bytes.writeUInt32LE(1, 12);
    const checksumAt = 32 + bytes.readUInt32LE(16) + 40 * bytes.readUInt32LE(20);
    createHash('sha256').update(bytes.subarray(0, checksumAt)).digest().copy(bytes, checksumAt);
    const back = decodeProject(bytes, 'old.atelier');
    expect(back.formatVersion).toBe(1);
    expect(back.document).toEqual({ ...v1Document, conversations: [] });
  });

  test('a conversation message must name a result the project has', () => {
    const { document, images } = sample();
    const bad = {
      ...document,
      conversations: [
        {
          ...document.conversations[0]!,
          messages: [{ ...document.conversations[0]!.messages[3]!, resultId: 'res-404' }],
        },
      ],
    };
    expect(decodeError(encoded(bad, images))).toMatchObject({
      code: 'corrupt-file',
      message: expect.stringMatching(/conversations\[0\]\.messages\[0\]\.resultId refers to result "res-404"/),
    });
  });

  test('stores an image used many times once', () => {
    const { document, images } = sample();
    // out1 is a result, a round's output and another round's input: three references, one copy.
    const out1 = document.results[0]!.image;
    expect(
      document.reflections[0]!.rounds.filter((r) => r.outputImage === out1 || r.inputImages.includes(out1)),
    ).toHaveLength(2);
    const bytes = encoded(document, images);
    const imageBytes = [...images.values()].reduce((n, b) => n + b.length, 0);
    const manifestBytes = Buffer.byteLength(JSON.stringify(document));
    expect(bytes.length).toBe(32 + manifestBytes + 40 * images.size + 32 + imageBytes);
    expect(imageRefs(document).required).toHaveLength(images.size);
  });

  test('is deterministic: the same project gives the same bytes', () => {
    const { document, images } = sample();
    const reversed = new Map([...images].reverse());
    expect(encoded(document, reversed).equals(encoded(document, images))).toBe(true);
  });
});

describe('damaged files are named precisely', () => {
  const { document, images } = sample();
  const good = encoded(document, images);
  const manifestEnd = 32 + Buffer.byteLength(JSON.stringify(document));

  test.each([
    ['inside the header', 20],
    ['inside the manifest', 100],
    ['inside the image table', manifestEnd + 10],
    ['inside the last image', good.length - 1],
  ])('cut %s → truncated', (_where, length) => {
    const e = decodeError(good.subarray(0, length));
    expect(e).toMatchObject({ code: 'corrupt-file', reason: 'truncated' });
    expect(e.message).toMatch(/test\.atelier is damaged/);
  });

  test('an empty file is truncated', () => {
    expect(decodeError(new Uint8Array(0))).toMatchObject({
      code: 'corrupt-file',
      reason: 'truncated',
      message: expect.stringMatching(/empty/),
    });
  });

  test('extra bytes at the end → trailing-data', () => {
    expect(decodeError(Buffer.concat([good, Buffer.from('x')]))).toMatchObject({
      code: 'corrupt-file',
      reason: 'trailing-data',
    });
  });

  test('a changed manifest byte → checksum-mismatch of the index', () => {
    expect(decodeError(flipByte(good, 40))).toMatchObject({
      code: 'corrupt-file',
      reason: 'checksum-mismatch',
      detail: { part: 'index' },
    });
  });

  test('a changed image byte → checksum-mismatch naming the image', () => {
    const bad = flipByte(good, -10, 0xff);
    const lastHash = [...images.keys()].sort().at(-1)!;
    const e = decodeError(bad);
    expect(e).toMatchObject({
      code: 'corrupt-file',
      reason: 'checksum-mismatch',
      detail: { part: 'image', image: lastHash },
    });
    expect(e.message).toContain(lastHash);
  });

  test('a file from a newer Atelier → from-future naming both versions', () => {
    const future = Buffer.from(good);
    future.writeUInt32LE(FORMAT_VERSION + 1, 12);
    const e = decodeError(future);
    expect(e).toMatchObject({
      code: 'from-future',
      detail: { fileVersion: FORMAT_VERSION + 1, supportedVersion: FORMAT_VERSION },
    });
    expect(e.message).toContain(`format ${FORMAT_VERSION + 1}`);
    expect(e.message).toContain(`format ${FORMAT_VERSION}`);
  });

  test('a newer file is recognised even if the rest of its layout is unknown', () => {
    const future = Buffer.alloc(16);
    good.copy(future, 0, 0, 12);
    future.writeUInt32LE(99, 12);
    expect(decodeError(future)).toMatchObject({ code: 'from-future' });
  });

  test('a PNG or a text file is not a project', () => {
    expect(decodeError(Buffer.from('\x89PNG\r\n\x1a\n0000000000000000000000000000', 'latin1'))).toMatchObject({
      reason: 'not-a-project',
    });
    expect(decodeError(Buffer.from('{"id": "x"}'))).toMatchObject({ reason: 'not-a-project' });
  });

  test('a manifest that breaks the schema → bad-manifest naming the field', () => {
    const broken = { ...document, results: [{ ...document.results[0]!, width: -5 }, document.results[1]!] };
    const e = decodeError(encoded(broken, images));
    expect(e).toMatchObject({ code: 'corrupt-file', reason: 'bad-manifest' });
    expect(e.message).toContain('manifest.results[0].width');
  });

  test('a reflection round whose parent comes later → bad-manifest (rounds must form a tree)', () => {
    const session = document.reflections[0]!;
    const cyclic = {
      ...document,
      reflections: [
        { ...session, rounds: [{ ...session.rounds[0]!, parentId: 'round-1' }, ...session.rounds.slice(1)] },
      ],
    };
    expect(decodeError(encoded(cyclic, images)).message).toContain('manifest.reflections[0].rounds[0].parentId');
  });

  test('an image the manifest uses but the file lacks → missing-image', () => {
    const lacking = new Map(images);
    const input = document.workspace.inputs[1]!.hash;
    lacking.delete(input);
    expect(decodeError(encoded(document, lacking))).toMatchObject({
      code: 'corrupt-file',
      reason: 'missing-image',
      detail: { image: input },
    });
  });

  test('a recipe input that is not stored is fine (recipes from imported PNGs name images we never had)', () => {
    const foreign = 'f'.repeat(64);
    const doc = {
      ...document,
      results: [
        { ...document.results[0]!, recipe: { ...document.results[0]!.recipe, inputImages: [foreign] } },
        document.results[1]!,
      ],
    };
    expect(decodeProject(encoded(doc, images), 'x').document.results[0]!.recipe.inputImages).toEqual([foreign]);
  });
});
