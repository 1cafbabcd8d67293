import { t } from '../i18n/i18n.svelte.ts';
import type { ProjectParameters, Recipe } from '../../../../src-main/ipc/contract.ts';

/** What a generation does with the input images (model-notes.md §5.3). */
export type Mode = 'text-to-image' | 'edit' | 'compose';

/** `label` and `description` are read in the current UI language each time. */
export const MODES: readonly { id: Mode; readonly label: string; shortcut: string; readonly description: string }[] = (
  [
    ['text-to-image', '1'],
    ['edit', '2'],
    ['compose', '3'],
  ] as const
).map(([id, shortcut]) => ({
  id,
  shortcut,
  get label() {
    return t(`mode.${id}`);
  },
  get description() {
    return t(`mode.${id}.description`);
  },
}));

/** The mode the inputs suggest: none → create, one → edit, several → in-context composition. */
export function modeFor(inputCount: number): Mode {
  if (inputCount === 0) return 'text-to-image';
  return inputCount === 1 ? 'edit' : 'compose';
}

/** The negative prompt the official scripts and demo pass by default (§2.1). */
export const OFFICIAL_NEGATIVE_PROMPT =
  '(((deformed))), blurry, over saturation, bad anatomy, disfigured, poorly drawn face, mutation, mutated, (extra_limb), ' +
  '(ugly), (poorly drawn hands), fused fingers, messy drawing, broken legs censor, censor, censor_bar';

/** Everything but the seed and image guidance, which the workspace keeps apart (see WorkspaceState). */
export type Parameters = Omit<ProjectParameters, 'seed' | 'imageGuidance'>;

/** §5.10, the values of the official CLI and demo (not the pipeline's bare defaults of 28 steps, guidance 4). */
export const DEFAULT_PARAMETERS: Parameters = Object.freeze({
  steps: 50,
  textGuidance: 5,
  cfgRange: [0, 1] as [number, number],
  scheduler: 'euler',
  width: 1024,
  height: 1024,
  maxPixels: 1024 * 1024,
  maxSideLength: 1024,
  numImages: 1,
  acceleration: 'none',
});

/** The parameters a recipe was made with (a recipe also carries prompts, seed and provenance). */
export function parametersOf(r: Recipe): Parameters {
  return {
    steps: r.steps,
    textGuidance: r.textGuidance,
    cfgRange: [r.cfgRange[0], r.cfgRange[1]],
    scheduler: r.scheduler,
    width: r.width,
    height: r.height,
    maxPixels: r.maxPixels,
    maxSideLength: r.maxSideLength,
    numImages: r.numImages,
    acceleration: r.acceleration,
  };
}

/**
 * Image guidance per mode: the README recommends 1.2–2.0 for editing and 2.5–3.0 for in-context generation;
 * without input images the pipeline forces it to 1 (§5.3).
 */
export const IMAGE_GUIDANCE: Record<Mode, { default: number; recommended: [number, number] | null }> = {
  'text-to-image': { default: 1, recommended: null },
  edit: { default: 2, recommended: [1.2, 2] },
  compose: { default: 2.5, recommended: [2.5, 3] },
};

export type NumericParameter =
  'steps' | 'textGuidance' | 'width' | 'height' | 'maxPixels' | 'maxSideLength' | 'numImages';
export interface Limit {
  min: number;
  max: number;
  step: number;
}

/** Ranges offered in the panel: the demo's ranges, widened to what the engine accepts (any multiple of 16 for sizes). */
export const LIMITS: Record<NumericParameter | 'imageGuidance' | 'cfg', Limit> = {
  steps: { min: 1, max: 200, step: 1 },
  textGuidance: { min: 1, max: 10, step: 0.1 },
  imageGuidance: { min: 1, max: 5, step: 0.1 },
  cfg: { min: 0, max: 1, step: 0.05 },
  width: { min: 16, max: 2048, step: 16 },
  height: { min: 16, max: 2048, step: 16 },
  maxPixels: { min: 256 * 256, max: 2048 * 2048, step: 16 * 16 },
  maxSideLength: { min: 256, max: 4096, step: 16 },
  numImages: { min: 1, max: 4, step: 1 },
};

/** Brings a typed value into its range and onto its step (sizes become multiples of 16). */
export function clampTo(limit: Limit, value: number): number {
  if (!Number.isFinite(value)) return limit.min;
  const stepped = Math.round(value / limit.step) * limit.step;
  return Number(Math.min(limit.max, Math.max(limit.min, stepped)).toFixed(2));
}

/** §5.1: the size the engine gives one input image (and, with exactly one input, the output): never upscaled. */
export function preprocessedSize(
  width: number,
  height: number,
  maxPixels: number,
  maxSide: number,
): { width: number; height: number } {
  const r = Math.min(Math.sqrt(maxPixels / (width * height)), maxSide / Math.max(width, height), 1);
  return { width: floor16(Math.floor(width * r)), height: floor16(Math.floor(height * r)) };
}

export interface AspectPreset {
  id: string;
  /** In the UI language. */
  readonly label: string;
  ratio: [number, number];
}
export const ASPECT_PRESETS: readonly AspectPreset[] = [
  {
    id: '1:1',
    get label() {
      return t('size.square');
    },
    ratio: [1, 1],
  },
  {
    id: '4:3',
    get label() {
      return t('size.landscape');
    },
    ratio: [4, 3],
  },
  {
    id: '3:4',
    get label() {
      return t('size.portrait');
    },
    ratio: [3, 4],
  },
  {
    id: '3:2',
    get label() {
      return t('size.photo');
    },
    ratio: [3, 2],
  },
  {
    id: '2:3',
    get label() {
      return t('size.photoPortrait');
    },
    ratio: [2, 3],
  },
  {
    id: '16:9',
    get label() {
      return t('size.wide');
    },
    ratio: [16, 9],
  },
  {
    id: '9:16',
    get label() {
      return t('size.tall');
    },
    ratio: [9, 16],
  },
];

/**
 * A size of that aspect in multiples of 16 with an area within maxPixels (so it is generated as is, §5.3): among
 * the largest few candidates, the one closest to the ratio (16:9 → 1344×768 rather than 1360×752).
 */
export function presetSize([a, b]: [number, number], maxPixels: number): { width: number; height: number } {
  let best = { width: 16, height: 16, error: Infinity };
  for (let width = floor16(Math.sqrt((maxPixels * a) / b)), k = 0; k < 12; width -= 16, k++) {
    const height = Math.max(16, Math.round((width * b) / a / 16) * 16);
    const error = Math.abs(width / height - a / b);
    if (width * height <= maxPixels && error < best.error - 1e-9) best = { width, height, error };
  }
  return { width: best.width, height: best.height };
}

export function presetFor(width: number, height: number, maxPixels: number): AspectPreset | null {
  return (
    ASPECT_PRESETS.find((p) => {
      const s = presetSize(p.ratio, maxPixels);
      return s.width === width && s.height === height;
    }) ?? null
  );
}

/** Seeds span what the engine accepts (0 … 2³²−1). */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0]!;
}

function floor16(n: number): number {
  return Math.max(16, Math.floor(n / 16) * 16);
}
