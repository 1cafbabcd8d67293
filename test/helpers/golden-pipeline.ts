import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { rgbImage } from '../../src-main/engine/image/rgb-image.ts';
import type { GenerationParams, PromptEmbedding } from '../../src-main/engine/pipeline/generate.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';
import { goldenDir } from './golden.ts';

interface Run {
  sched: 'euler' | 'dpmsolver++';
  images: [number, number, number][] | null;
  w: number | null;
  h: number | null;
  steps: number;
  tg: number;
  ig: number;
  cfg_range: [number, number];
  output_hw: [number, number];
}

/** A golden text-prompt run's entry in e2e/runs.json (the MLLM encodes the prompt itself). */
export interface E2eRun {
  prompt: string;
  negative: string | null;
  images: [number, number, number][];
  w: number | null;
  h: number | null;
  steps: number;
  tg: number;
  ig: number;
  cfg: [number, number];
  output_hw: [number, number];
}

/** The `input_image_N` tensors of a golden file, in order. */
function inputImages(f: SafetensorsFile) {
  return [...f.tensors.keys()]
    .filter((k) => /^input_image_\d+$/.test(k))
    .sort()
    .map((k) => {
      const [h, w] = f.get(k).shape as [number, number, number];
      return rgbImage(w, h, new Uint8Array(f.readBytes(k)));
    });
}

function embedding(f: SafetensorsFile, key: string, mask: string): PromptEmbedding {
  const [, , F] = f.get(key).shape as [number, number, number];
  const length = Number(f.readBigInt64(mask).reduce((a, b) => a + b, 0n));
  return { hidden: f.readFloat32(key).slice(0, length * F), length };
}

/** The inputs of a golden run as the pipeline takes them (text embeddings given, initial noise given). */
export function goldenRun(file: string) {
  const runs = JSON.parse(readFileSync(join(goldenDir(), 'pipeline/runs.json'), 'utf8')) as Record<string, Run>;
  const name = basename(file, '.safetensors');
  const run = runs[name];
  if (!run) throw new Error(`${file} has no entry in pipeline/runs.json`);
  const f = SafetensorsFile.open(file);
  const images = inputImages(f);
  const params: GenerationParams = {
    steps: run.steps,
    textGuidance: run.tg,
    imageGuidance: run.ig,
    cfgRange: run.cfg_range,
    scheduler: run.sched,
    width: run.w ?? 1024,
    height: run.h ?? 1024,
    maxPixels: 1024 * 1024,
    maxSideLength: 1024,
    seed: 0,
  };
  return {
    name,
    run,
    file: f,
    images,
    params,
    prompt: embedding(f, 'prompt_embeds', 'prompt_attention_mask'),
    negative: embedding(f, 'negative_prompt_embeds', 'negative_prompt_attention_mask'),
    initialLatents: f.readFloat32('initial_latents'),
  };
}

/** A golden text-prompt run (e2e/): its runs.json entry, its file, input images and the pipeline parameters. */
export function goldenE2eRun(file: string) {
  const runs = JSON.parse(readFileSync(join(goldenDir(), 'e2e/runs.json'), 'utf8')) as Record<string, E2eRun>;
  const name = basename(file, '.safetensors');
  const run = runs[name];
  if (!run) throw new Error(`${file} has no entry in e2e/runs.json`);
  const f = SafetensorsFile.open(file);
  const params: GenerationParams = {
    steps: run.steps,
    textGuidance: run.tg,
    imageGuidance: run.ig,
    cfgRange: run.cfg,
    scheduler: 'euler',
    width: run.w ?? 1024,
    height: run.h ?? 1024,
    maxPixels: 1024 * 1024,
    maxSideLength: 1024,
    seed: 0,
  };
  return { name, run, f, images: inputImages(f), params, initialLatents: f.readFloat32('initial_latents') };
}
