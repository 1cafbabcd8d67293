import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startWorkerEngine } from '../../src-main/engine/host/worker-engine.ts';
import { encodePng } from '../../src-main/engine/image/encode-png.ts';
import { rgbImage, type RgbImage } from '../../src-main/engine/image/rgb-image.ts';
import { QwenTextModel } from '../../src-main/engine/models/qwen-text.ts';
import {
  dropImagePads,
  encodeChatConditioning,
  encodeChatNegative,
} from '../../src-main/engine/pipeline/chat-conditioning.ts';
import { spliceImageRows, type ChatPromptParts } from '../../src-main/engine/pipeline/chat.ts';
import { runGenerateJob, type GenerateJob, type GeneratedPng } from '../../src-main/engine/pipeline/generate-job.ts';
import { ModelSet } from '../../src-main/engine/pipeline/model-set.ts';
import { mropePositionIds } from '../../src-main/engine/sampling/mrope.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenCases, goldenDir } from '../helpers/golden.ts';
import { expectClose } from '../helpers/tensors.ts';

// fp32 against fp32 (golden README: ~1e-4); the same bound as the MLLM conformance (qwen-text.test.ts).
const FP32_TOL = { atol: 2e-5 };

const modelDir = join(goldenDir(), 'e2e', 'model');
const SYSTEM =
  '<|im_start|>system\nYou are a helpful assistant that generates high-quality images based on user instructions.<|im_end|>\n';
const VISION = '<|vision_start|><|image_pad|><|vision_end|>';
const ID = { visionStart: 998, visionEnd: 999, imagePad: 1000, imStart: 1002, imEnd: 1003 }; // golden README, e2e/

/** A small deterministic picture (gradient + stripes), so the vision tower sees structure. */
function picture(width: number, height: number, seed: number): RgbImage {
  const px = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    const x = i % width,
      y = Math.floor(i / width);
    px.set([(x * 7 + seed * 40) % 256, (y * 5 + seed * 90) % 256, ((x + y) % 8 < 4 ? 200 : 30) ^ seed], i * 3);
  }
  return rgbImage(width, height, px);
}

const images = [picture(56, 56, 1), picture(84, 56, 2)];
let models: ModelSet;
let parts: ChatPromptParts;
beforeAll(async () => {
  models = new ModelSet();
  parts = await models.open(modelDir).chatParts();
});
afterAll(async () => {
  await models.release();
});

describe('chat-mode conditioning (§2.2), tiny e2e model', () => {
  test('the prompt string is the §2.2 one: labelled vision blocks, the instruction, the assistant header', async () => {
    const c = await encodeChatConditioning(
      parts,
      [{ role: 'user', text: 'Put the cat from image 1 on the sofa of image 2.' }],
      images,
    );
    expect(c.text).toBe(
      `${SYSTEM}<|im_start|>user\n<img1>: ${VISION}<img2>: ${VISION}Put the cat from image 1 on the sofa of image 2.<|im_end|>\n<|im_start|>assistant\n`,
    );
  });

  test('token ids: every image pad dropped, everything else kept in order, exactly the spec string without pads', async () => {
    const c = await encodeChatConditioning(parts, [{ role: 'user', text: 'Describe image 2.' }], images);
    expect(c.inputIds).not.toContain(ID.imagePad);
    expect(c.inputIds).toEqual(parts.tokenizer.encode(c.text.replaceAll('<|image_pad|>', '')));
    expect(c.inputIds.filter((id) => id === ID.visionStart)).toHaveLength(2);
    expect(c.inputIds.filter((id) => id === ID.visionEnd)).toHaveLength(2);
    const header = parts.tokenizer.encode('<|im_start|>assistant\n');
    expect([header[0], c.inputIds[0]]).toEqual([ID.imStart, ID.imStart]);
    expect(c.inputIds.slice(-header.length)).toEqual(header); // the generation prompt closes it (§2.2)
    expect([c.length, c.hiddenStates.length, Array.from(c.mask)]).toEqual([
      c.inputIds.length,
      c.inputIds.length * c.hiddenSize,
      c.inputIds.map(() => 1),
    ]);
  });

  test('the kept states carry the images: the same kept tokens with the images swapped give other states', async () => {
    const withImages = await encodeChatConditioning(parts, [{ role: 'user', text: 'Describe image 2.' }], images);
    const otherImages = await encodeChatConditioning(
      parts,
      [{ role: 'user', text: 'Describe image 2.' }],
      [images[1]!, images[0]!],
    );
    expect(otherImages.inputIds).toEqual(withImages.inputIds); // pad counts differ by image size; the kept ids do not
    const last = (c: typeof withImages) => c.hiddenStates.subarray((c.length - 1) * c.hiddenSize);
    expect(Array.from(last(otherImages))).not.toEqual(Array.from(last(withImages)));
  });

  test('multi-turn: earlier turns in context, the images still labelled in the first user turn', async () => {
    const c = await encodeChatConditioning(
      parts,
      [
        { role: 'user', text: 'What is in image 2?' },
        { role: 'assistant', text: 'A sofa.' },
        { role: 'user', text: 'Draw it blue.' },
      ],
      images,
    );
    expect(c.text).toBe(
      `${SYSTEM}<|im_start|>user\n<img1>: ${VISION}<img2>: ${VISION}What is in image 2?<|im_end|>\n` +
        '<|im_start|>assistant\nA sofa.<|im_end|>\n<|im_start|>user\nDraw it blue.<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(c.inputIds).toEqual(parts.tokenizer.encode(c.text.replaceAll('<|image_pad|>', '')));
  });

  test('the negative prompt is templated in the chat format without images, encoded text only', async () => {
    const neg = await encodeChatNegative(parts, 'blurry');
    expect(neg.text).toBe(`${SYSTEM}<|im_start|>user\nblurry<|im_end|>\n<|im_start|>assistant\n`);
    expect(neg.inputIds).toEqual(parts.tokenizer.encode(neg.text));
    expect(neg.inputIds).not.toContain(ID.visionStart);
    expect((await encodeChatNegative(parts)).text).toBe(
      `${SYSTEM}<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n`,
    );
  });
});

const mmCases = goldenCases('mllm', /^case_.*\.safetensors$/).filter((f) =>
  SafetensorsFile.open(f).has('mm_input_ids'),
);

describe.each(mmCases.map((f) => [basename(f), f]))(
  'dropping image pads from the reference multimodal states (%s)',
  (_name, file) => {
    test('the kept rows equal mm_last_hidden at every non-pad position, in order', async () => {
      const golden = SafetensorsFile.open(file);
      const ids = Array.from(golden.readBigInt64('mm_input_ids'), Number);
      const [t, h, w] = Array.from(golden.readBigInt64('mm_image_grid_thw'), Number) as [number, number, number];
      const model = await QwenTextModel.load(join(goldenDir(), 'mllm'));
      try {
        const cfg = model.config;
        const embeds = model.embed(ids);
        spliceImageRows(embeds, ids, cfg.imageTokenId, golden.readFloat32('mm_vision_embeds'), cfg.hiddenSize);
        const out = await model.forward({
          embeds,
          positions: mropePositionIds(ids, [{ t, h, w }], {
            imageTokenId: cfg.imageTokenId,
            spatialMergeSize: cfg.spatialMergeSize,
          }),
        });
        const got = dropImagePads(out.lastHidden, ids, cfg.imageTokenId, cfg.hiddenSize);
        const ref = golden.readFloat32('mm_last_hidden');
        const keep = ids.flatMap((id, i) => (id === cfg.imageTokenId ? [] : [i]));
        const want = new Float32Array(keep.length * cfg.hiddenSize);
        keep.forEach((i, k) =>
          want.set(ref.subarray(i * cfg.hiddenSize, (i + 1) * cfg.hiddenSize), k * cfg.hiddenSize),
        );
        expect(got.ids).toEqual(keep.map((i) => ids[i]));
        expect(got.ids.length).toBe(ids.length - (t * h * w) / cfg.spatialMergeSize ** 2);
        expectClose(got.hidden, want, FP32_TOL, 'mm_last_hidden without pads');
      } finally {
        await model.release();
      }
    });
  },
);

describe('chat-mode generation jobs', () => {
  const engine = startWorkerEngine();
  afterAll(() => engine.dispose());

  async function job(overrides: Partial<GenerateJob> = {}): Promise<GenerateJob> {
    return {
      modelDir,
      prompt: 'Draw the cat of image 1 on the sofa of image 2.',
      negative: 'blurry',
      images: await Promise.all(images.map((i) => encodePng(i))),
      numImages: 1,
      previews: false,
      params: {
        steps: 2,
        textGuidance: 4,
        imageGuidance: 2,
        cfgRange: [0, 1],
        scheduler: 'euler',
        width: 64,
        height: 48,
        maxPixels: 64 * 64,
        maxSideLength: 64,
        seed: 3,
      },
      chat: {
        history: [
          { role: 'user', text: 'What is in image 2?' },
          { role: 'assistant', text: 'A sofa.' },
        ],
      },
      ...overrides,
    };
  }
  const ctx = { signal: new AbortController().signal, progress: () => {} };

  test('the same picture in-process and through the worker engine', async () => {
    const chatJob = await job();
    const [inProcess] = await runGenerateJob(chatJob, models, ctx);
    const [worker] = (await engine.run('chat-draw', { kind: 'generate', job: chatJob })) as GeneratedPng[];
    expect(Buffer.compare(inProcess!.png, worker!.png)).toBe(0);
  });

  test('chat-mode conditioning is what conditions the picture: it differs from the standard one and with the history', async () => {
    const chat = (await runGenerateJob(await job(), models, ctx))[0]!.png;
    const standard = (await runGenerateJob(await job({ chat: undefined }), models, ctx))[0]!.png;
    const noHistory = (await runGenerateJob(await job({ chat: { history: [] } }), models, ctx))[0]!.png;
    expect(Buffer.compare(chat, standard)).not.toBe(0);
    expect(Buffer.compare(chat, noHistory)).not.toBe(0);
  });
});
