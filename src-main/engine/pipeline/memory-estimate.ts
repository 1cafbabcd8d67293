import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { planOutputSize, vaeInputSize, type Size } from '../image/image-sizes.ts';
import { parseDitConfig, type DitConfig } from '../models/dit/config.ts';
import { parseQwenTextConfig, type QwenTextConfig } from '../models/qwen-text/config.ts';
import { parseQwenVisionConfig, type QwenVisionConfig } from '../models/qwen-vision/config.ts';
import { parseVaeConfig, type VaeConfig } from '../models/vae/config.ts';
import {
  ditActivationBytes,
  textActivationBytes,
  vaeDecoderActivationBytes,
  vaeEncoderActivationBytes,
  vaeTiledDecoderActivationBytes,
  vaeTiledEncoderActivationBytes,
  visionActivationBytes,
  visionPatches,
  type AttentionScores,
} from './activation-estimate.ts';
import { LOW_MEMORY_VAE_QUERY_CHUNKS, type MemoryMode } from './memory-mode.ts';
import { DEFAULT_VAE_TILES } from '../models/vae/tiling.ts';
import { ditParams, qwenTextParams, qwenVisionParams, vaeParams, type ParamCount } from './parameter-counts.ts';

export type WeightPrecision = 'fp32' | 'fp16' | 'int8' | 'int4';
export const WEIGHT_PRECISIONS: readonly WeightPrecision[] = ['fp32', 'fp16', 'int8', 'int4'];
export type ComponentName = 'mllm-text' | 'mllm-vision' | 'dit' | 'vae-encoder' | 'vae-decoder';

/** The configs of one model folder; the MLLM is absent when a folder only runs from prompt embeddings. */
export interface ModelConfigs {
  readonly dit: DitConfig;
  readonly vae: VaeConfig;
  readonly text: QwenTextConfig | null;
  readonly vision: QwenVisionConfig | null;
}

export interface EstimateRequest {
  /** Requested output size; generation happens at most at `maxPixels` (§5.3). */
  readonly width: number;
  readonly height: number;
  /** Reference images, each assumed at the output size (within the §5.1 limits). */
  readonly referenceImages: number;
  readonly precision: WeightPrecision;
  readonly mode: MemoryMode;
  /** Images also go through the MLLM's vision tower (the chat pipeline, §2.2). Default false. */
  readonly chat?: boolean;
  /** Prompt tokens after the chat template (default 120). */
  readonly textTokens?: number;
  /** Default `materialised`: the bound for an EP without flash-style attention. */
  readonly attentionKernel?: AttentionScores['kernel'];
  readonly maxPixels?: number;
  /**
   * VAE encode/decode in tiles (models/vae/tiling.ts): `auto` (default) tiles a VAE stage whose untiled peak
   * exceeds `budgetBytes`, as the engine does (pipeline/vae-codec.ts); `always` / `never` force it.
   */
  readonly vaeTiling?: VaeTiling;
  /** The memory a stage may use; default unlimited (so `auto` keeps the VAE untiled). adviseFit passes its budget. */
  readonly budgetBytes?: number;
}

export type VaeTiling = 'auto' | 'always' | 'never';

export interface ComponentEstimate {
  readonly component: ComponentName;
  readonly params: number;
  readonly weightsBytes: number;
  readonly activationsBytes: number;
  /** Weights + activations: the component running alone. */
  readonly peakBytes: number;
  /** VAE components: whether the estimate tiles it, and its activations untiled and tiled. */
  readonly vaeTiles?: { readonly tiled: boolean; readonly untiledBytes: number; readonly tiledBytes: number };
}

export interface StageEstimate {
  readonly stage: 'text' | 'encode' | 'denoise' | 'decode';
  /** Components whose weights are loaded during the stage in this mode. */
  readonly resident: readonly ComponentName[];
  readonly bytes: number;
}

export interface MemoryEstimate {
  readonly request: Required<EstimateRequest>;
  /** The size the DiT generates at and the VAE decodes. */
  readonly generation: Size;
  /** DiT joint sequence length S (text + references + output tokens). */
  readonly sequence: number;
  readonly components: readonly ComponentEstimate[];
  readonly stages: readonly StageEstimate[];
  /** The peak of this mode as the engine implements it. */
  readonly peakBytes: number;
  /** low-memory only: what streaming the repeated blocks (two in memory at a time) would need; not implemented. */
  readonly streamingPeakBytes: number | null;
}

const DEFAULT_TEXT_TOKENS = 120;
const DEFAULT_MAX_PIXELS = 1024 * 1024;

/** Reads the component configs of a model folder (no weights are opened). */
export function readModelConfigs(modelDir: string): ModelConfigs {
  const read = (path: string): unknown => JSON.parse(readFileSync(path, 'utf8'));
  const dit = parseDitConfig(
    read(join(modelDir, 'transformer', 'config.json')),
    join(modelDir, 'transformer', 'config.json'),
  );
  const vae = parseVaeConfig(read(join(modelDir, 'vae', 'config.json')), join(modelDir, 'vae', 'config.json'));
  const mllmPath = join(modelDir, 'mllm', 'config.json');
  if (!existsSync(mllmPath)) return { dit, vae, text: null, vision: null };
  const mllm = read(mllmPath);
  return { dit, vae, text: parseQwenTextConfig(mllm, mllmPath), vision: parseQwenVisionConfig(mllm, mllmPath) };
}

/**
 * Bytes of a component's weights. fp32/fp16: every tensor at that width. int8/int4: the linear weights
 * block-quantised as MatMulNBits stores them (blocks of 32 with an fp16 scale, 4-bit zero points for int4),
 * everything else fp16. The VAE is convolutions and is never quantised: fp32, or fp16 below fp32.
 */
export function weightBytes(p: ParamCount, precision: WeightPrecision, quantisable = true): number {
  if (precision === 'fp32') return p.total * 4;
  if (precision === 'fp16' || !quantisable) return p.total * 2;
  const perWeight = precision === 'int8' ? 1 + 2 / 32 : 0.5 + (2 + 0.5) / 32;
  return p.matrix * perWeight + (p.total - p.matrix) * 2;
}

/** Peak memory of a generation job from the configs alone: per component, per stage, for one memory mode. */
export function estimateMemory(configs: ModelConfigs, request: EstimateRequest): MemoryEstimate {
  const r: Required<EstimateRequest> = {
    chat: false,
    textTokens: DEFAULT_TEXT_TOKENS,
    attentionKernel: 'materialised',
    maxPixels: DEFAULT_MAX_PIXELS,
    vaeTiling: 'auto',
    budgetBytes: Number.POSITIVE_INFINITY,
    ...request,
  };
  if (!Number.isInteger(r.referenceImages) || r.referenceImages < 0 || r.referenceImages > 5)
    throw new RangeError(`referenceImages must be 0…5, got ${r.referenceImages}`);
  const refSize = vaeInputSize({ width: r.width, height: r.height }, { maxPixels: r.maxPixels, maxSideLength: 1024 });
  const generation =
    r.referenceImages === 1
      ? refSize
      : planOutputSize({
          requested: { width: r.width, height: r.height },
          inputSizes: [],
          alignRes: true,
          maxPixels: r.maxPixels,
        }).generate;
  const actBytes = r.precision === 'fp32' ? 4 : 2;
  const attention: AttentionScores = { kernel: r.attentionKernel, queryChunks: 1 };
  const vaeAttention: AttentionScores = {
    kernel: r.attentionKernel,
    queryChunks: r.mode === 'low-memory' ? LOW_MEMORY_VAE_QUERY_CHUNKS : 4,
  };
  const tokens = (s: Size) => (s.width / 16) * (s.height / 16);
  const sequence = r.textTokens + r.referenceImages * tokens(refSize) + tokens(generation);

  const components: ComponentEstimate[] = [];
  const add = (component: ComponentName, params: ParamCount, weightsBytes: number, activationsBytes: number) =>
    components.push({
      component,
      params: params.total,
      weightsBytes,
      activationsBytes,
      peakBytes: weightsBytes + activationsBytes,
    });
  const patches = configs.vision ? visionPatches(configs.vision, refSize.width, refSize.height) : 0;
  if (configs.text) {
    const imageTokens = r.chat ? r.referenceImages * (patches / configs.vision!.mergeUnit) : 0;
    const p = qwenTextParams(configs.text);
    add(
      'mllm-text',
      p,
      weightBytes(p, r.precision),
      textActivationBytes(configs.text, { tokens: r.textTokens + imageTokens, actBytes, attention }),
    );
  }
  if (configs.vision && r.chat && r.referenceImages > 0) {
    const p = qwenVisionParams(configs.vision);
    add(
      'mllm-vision',
      p,
      weightBytes(p, r.precision),
      visionActivationBytes(configs.vision, { patches, actBytes, attention }),
    );
  }
  const dit = ditParams(configs.dit);
  add('dit', dit, weightBytes(dit, r.precision), ditActivationBytes(configs.dit, { sequence, actBytes, attention }));
  const vae = vaeParams(configs.vae);
  const tile = DEFAULT_VAE_TILES.tile;
  const addVae = (
    component: 'vae-encoder' | 'vae-decoder',
    params: ParamCount,
    untiledBytes: number,
    tiledBytes: number,
  ) => {
    add(
      component,
      params,
      weightBytes(params, r.precision, false),
      r.vaeTiling === 'always' ? tiledBytes : untiledBytes,
    );
    const c = components.pop()!;
    components.push({ ...c, vaeTiles: { tiled: r.vaeTiling === 'always', untiledBytes, tiledBytes } });
  };
  if (r.referenceImages > 0) {
    const o = { ...refSize, actBytes, attention: vaeAttention };
    addVae(
      'vae-encoder',
      vae.encoder,
      vaeEncoderActivationBytes(configs.vae, o),
      vaeTiledEncoderActivationBytes(configs.vae, { ...o, tile }),
    );
  }
  const f = configs.vae.downscaleFactor;
  const latent = {
    latentWidth: generation.width / f,
    latentHeight: generation.height / f,
    actBytes,
    attention: vaeAttention,
  };
  addVae(
    'vae-decoder',
    vae.decoder,
    vaeDecoderActivationBytes(configs.vae, latent),
    vaeTiledDecoderActivationBytes(configs.vae, { ...latent, tile }),
  );
  if (r.vaeTiling === 'auto') {
    // As the engine chooses: a VAE stage that would not fit the budget untiled runs tiled.
    const over = new Set(
      stagesOf(components, r.mode)
        .filter((s) => s.bytes > r.budgetBytes)
        .map((s) => s.stage),
    );
    for (const [i, c] of components.entries()) {
      if (c.vaeTiles && over.has(c.component === 'vae-encoder' ? 'encode' : 'decode')) {
        const activationsBytes = Math.min(c.vaeTiles.tiledBytes, c.vaeTiles.untiledBytes);
        components[i] = {
          ...c,
          activationsBytes,
          peakBytes: c.weightsBytes + activationsBytes,
          vaeTiles: { ...c.vaeTiles, tiled: true },
        };
      }
    }
  }

  const stages = stagesOf(components, r.mode);
  const peakBytes = Math.max(...stages.map((s) => s.bytes));
  const streamingPeakBytes = r.mode === 'low-memory' ? streamingPeak(configs, components, r.precision) : null;
  return { request: r, generation, sequence, components, stages, peakBytes, streamingPeakBytes };
}

/** Which weights are loaded in each stage (memory-mode.ts), plus that stage's activations. */
function stagesOf(components: readonly ComponentEstimate[], mode: MemoryMode): StageEstimate[] {
  const byName = new Map(components.map((c) => [c.component, c]));
  const weights = (names: readonly ComponentName[]) =>
    names.reduce((a, n) => a + (byName.get(n)?.weightsBytes ?? 0), 0);
  const act = (names: readonly ComponentName[]) =>
    Math.max(0, ...names.map((n) => byName.get(n)?.activationsBytes ?? 0));
  const present = (names: readonly ComponentName[]) => names.filter((n) => byName.has(n));
  const all = present(['mllm-text', 'mllm-vision', 'dit', 'vae-encoder', 'vae-decoder']);
  const work: [StageEstimate['stage'], ComponentName[]][] = [
    ['text', present(['mllm-text', 'mllm-vision'])],
    ['encode', present(['vae-encoder'])],
    ['denoise', ['dit']],
    ['decode', ['vae-decoder']],
  ];
  return work
    .filter(([, running]) => running.length > 0)
    .map(([stage, running]) => {
      // one-at-a-time keeps the DiT loaded through VAE calls (it may be resident from the previous job).
      const resident =
        mode === 'all-resident'
          ? all
          : mode === 'one-at-a-time' && (stage === 'encode' || stage === 'decode')
            ? ['dit' as const, ...running]
            : running;
      return { stage, resident, bytes: weights(resident) + act(running) };
    });
}

/** Per stage: weights outside the repeated blocks + two blocks (one running, one loading) + activations. */
function streamingPeak(
  configs: ModelConfigs,
  components: readonly ComponentEstimate[],
  precision: WeightPrecision,
): number {
  const streamed = (c: ComponentEstimate, p: ParamCount, quantisable = true) => {
    const perParam = weightBytes(p, precision, quantisable) / p.total;
    return (p.total - p.blocks + 2 * p.largestBlock) * perParam + c.activationsBytes;
  };
  const vae = vaeParams(configs.vae);
  const params: Record<ComponentName, () => ParamCount> = {
    'mllm-text': () => qwenTextParams(configs.text!),
    'mllm-vision': () => qwenVisionParams(configs.vision!),
    dit: () => ditParams(configs.dit),
    'vae-encoder': () => vae.encoder,
    'vae-decoder': () => vae.decoder,
  };
  return Math.max(...components.map((c) => streamed(c, params[c.component](), !c.component.startsWith('vae'))));
}

/** Share of the memory a job may plan to use: the OS, the app and allocator slack need the rest. */
export const USABLE_FRACTION = 0.9;

export interface FitSuggestion {
  readonly mode: MemoryMode;
  readonly precision: WeightPrecision;
  readonly width: number;
  readonly height: number;
  readonly peakBytes: number;
}

export interface FitAdvice {
  readonly fits: boolean;
  readonly peakBytes: number;
  readonly availableBytes: number;
  /** When it does not fit: the least costly change that does (another mode, then a lower precision, then a
   *  smaller size), or null when even the smallest tried does not fit. */
  readonly suggestion: FitSuggestion | null;
}

const MODES_FASTEST_FIRST: readonly MemoryMode[] = ['all-resident', 'one-at-a-time', 'low-memory'];
const SIZE_STEPS = [0.875, 0.75, 0.625, 0.5, 0.375, 0.25];

/** Whether `request` fits in `availableBytes` (× USABLE_FRACTION), and if not, what would. */
export function adviseFit(configs: ModelConfigs, request: EstimateRequest, availableBytes: number): FitAdvice {
  const budget = availableBytes * USABLE_FRACTION;
  request = { ...request, budgetBytes: budget };
  const peakBytes = estimateMemory(configs, request).peakBytes;
  if (peakBytes <= budget) return { fits: true, peakBytes, availableBytes, suggestion: null };
  const lowerPrecisions = WEIGHT_PRECISIONS.slice(WEIGHT_PRECISIONS.indexOf(request.precision) + 1);
  const sizes = SIZE_STEPS.map((s) => ({
    width: Math.max(256, Math.floor((request.width * s) / 16) * 16),
    height: Math.max(256, Math.floor((request.height * s) / 16) * 16),
  }));
  const candidates: EstimateRequest[] = [
    ...MODES_FASTEST_FIRST.map((mode) => ({ ...request, mode })),
    ...lowerPrecisions.flatMap((precision) => MODES_FASTEST_FIRST.map((mode) => ({ ...request, precision, mode }))),
    ...sizes.flatMap((size) => MODES_FASTEST_FIRST.map((mode) => ({ ...request, ...size, mode }))),
  ];
  for (const c of candidates) {
    const peak = estimateMemory(configs, c).peakBytes;
    if (peak <= budget)
      return {
        fits: false,
        peakBytes,
        availableBytes,
        suggestion: { mode: c.mode, precision: c.precision, width: c.width, height: c.height, peakBytes: peak },
      };
  }
  return { fits: false, peakBytes, availableBytes, suggestion: null };
}
