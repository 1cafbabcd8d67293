import { totalmem } from 'node:os';
import {
  USABLE_FRACTION,
  WEIGHT_PRECISIONS,
  adviseFit,
  estimateMemory,
  readModelConfigs,
  type ComponentName,
  type EstimateRequest,
  type FitAdvice,
  type MemoryEstimate,
  type ModelConfigs,
} from '../engine/pipeline/memory-estimate.ts';
import { MEMORY_MODES } from '../engine/pipeline/memory-mode.ts';
import { choiceOption as oneOf, intOption, numberOption, parseCommandArgs } from './args.ts';
import { CliError, type CliCommand } from './command.ts';
import { chosenModel, memoryModeOption } from './generation-options.ts';

const USAGE = `Usage: atelier estimate [--model REPO|DIR] [options]

Estimates the peak memory of a generation job from the model's config.json files alone (no weights are read):
per component its weights, its activations at the requested size and their sum, then the peak of the memory
mode and whether it fits this machine. GB = 10⁹ bytes.

  --model REPO|DIR         an installed model's repo id (e.g. OmniGen2/OmniGen2) or a model folder (transformer/, vae/, and mllm/ when
                           prompts are encoded here); default: the installed OmniGen2, else the only ready model in the models folder
  --width N --height N     output size (default 1024 × 1024; generation is capped at 1024² pixels)
  --images N               reference images, 0–5, each assumed at the output size (default 0)
  --precision P            fp32 | fp16 | int8 | int4 weights (default fp16; activations are fp32 only with fp32)
  --memory-mode MODE       all-resident | one-at-a-time | low-memory (default one-at-a-time)
  --chat                   images also go through the MLLM's vision tower (chat and reflection)
  --attention KIND         materialised (default: the upper bound, an EP holding the score matrix) | fused
                           (a flash-style kernel that never holds it, as the CPU provider's)
  --gpu-memory GB          also check against a GPU of this size (Node cannot read a GPU's memory)
`;

const OPTIONS = {
  model: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  images: { type: 'string' },
  precision: { type: 'string' },
  'memory-mode': { type: 'string' },
  chat: { type: 'boolean' },
  attention: { type: 'string' },
  'gpu-memory': { type: 'string' },
} as const;

const LABELS: Record<ComponentName, string> = {
  'mllm-text': 'MLLM text',
  'mllm-vision': 'MLLM vision',
  dit: 'DiT',
  'vae-encoder': 'VAE encoder',
  'vae-decoder': 'VAE decoder',
};

export const estimateCommand: CliCommand = {
  name: 'estimate',
  summary: 'estimate the peak memory of a job from the model configs, and whether it fits',
  usage: USAGE,
  async run(argv, ctx) {
    const { values } = parseCommandArgs('estimate', argv, OPTIONS);
    const { dir: modelDir } = await chosenModel(values.model, ctx);
    const request: EstimateRequest = {
      width: intOption('width', values.width, 1024, { min: 16, max: 8192 }),
      height: intOption('height', values.height, 1024, { min: 16, max: 8192 }),
      referenceImages: intOption('images', values.images, 0, { min: 0, max: 5 }),
      precision: oneOf('precision', values.precision ?? 'fp16', WEIGHT_PRECISIONS),
      mode: memoryModeOption(values['memory-mode']),
      chat: values.chat ?? false,
      attentionKernel: oneOf('attention', values.attention ?? 'materialised', ['materialised', 'fused'] as const),
    };
    const gpuBytes =
      values['gpu-memory'] === undefined
        ? null
        : numberOption('gpu-memory', values['gpu-memory'], 0, { min: 0.1, max: 10_000 }) * 1e9;
    let configs: ModelConfigs;
    try {
      configs = readModelConfigs(modelDir);
    } catch (e) {
      throw new CliError(`cannot read the configs of ${modelDir}: ${(e as Error).message}`);
    }
    const estimate = estimateMemory(configs, request);
    ctx.stdout(report(modelDir, estimate, configs));
    ctx.stdout(
      fitLine('This machine', adviseFit(configs, request, totalmem()), 'RAM (os.totalmem), what the CPU provider uses'),
    );
    ctx.stdout(
      gpuBytes === null
        ? 'GPU: its memory cannot be read from Node; pass --gpu-memory GB to check against your GPU.\n'
        : fitLine('GPU', adviseFit(configs, request, gpuBytes), 'as given by --gpu-memory'),
    );
    return 0;
  },
};

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
const count = (n: number) =>
  n >= 1e9
    ? `${(n / 1e9).toFixed(2)} B`
    : n >= 1e6
      ? `${(n / 1e6).toFixed(1)} M`
      : n >= 1e3
        ? `${(n / 1e3).toFixed(1)} k`
        : `${n}`;

function report(modelDir: string, e: MemoryEstimate, configs: ModelConfigs): string {
  const r = e.request;
  const vaePrecision = r.precision === 'fp32' ? 'fp32' : 'fp16';
  const lines = [
    `Memory estimate for ${modelDir}`,
    `  output ${r.width}×${r.height} (generated at ${e.generation.width}×${e.generation.height}), ${r.referenceImages} reference image${r.referenceImages === 1 ? '' : 's'}${r.chat ? ' (also through the vision tower)' : ''}, DiT sequence ${e.sequence} tokens`,
    `  weights ${r.precision} (VAE ${vaePrecision}), activations ${r.precision === 'fp32' ? 'fp32' : 'fp16'}, attention scores ${r.attentionKernel}, mode ${r.mode}`,
    '',
  ];
  const row = (cells: string[]) =>
    `${cells[0]!.padEnd(22)}${cells
      .slice(1)
      .map((c) => c.padStart(12))
      .join('')}`;
  lines.push(row(['component', 'params', 'weights', 'activations', 'peak']));
  for (const c of e.components)
    lines.push(
      row([LABELS[c.component], count(c.params), gb(c.weightsBytes), gb(c.activationsBytes), gb(c.peakBytes)]),
    );
  const top = e.stages.reduce((a, s) => (s.bytes > a.bytes ? s : a));
  const residentWeights = top.resident.reduce(
    (a, n) => a + e.components.find((c) => c.component === n)!.weightsBytes,
    0,
  );
  lines.push(row([`total (${r.mode})`, '', gb(residentWeights), gb(top.bytes - residentWeights), gb(e.peakBytes)]));
  lines.push(
    '',
    `stages (${r.mode}): ${e.stages.map((s) => `${s.stage} ${gb(s.bytes)} [${s.resident.map((n) => LABELS[n]).join(' + ')}]`).join(' · ')}`,
  );
  lines.push(
    `modes: ${MEMORY_MODES.map((mode) => `${mode} ${gb(estimateMemory(configs, { ...r, mode }).peakBytes)}`).join(' · ')}`,
  );
  const tiled = e.components.filter((c) => c.vaeTiles && c.vaeTiles.tiledBytes < c.vaeTiles.untiledBytes);
  if (tiled.length > 0) {
    const parts = tiled.map(
      (c) =>
        `${LABELS[c.component]} activations ${gb(c.vaeTiles!.tiledBytes)} instead of ${gb(c.vaeTiles!.untiledBytes)}`,
    );
    lines.push(
      `VAE in tiles (chosen when a VAE stage would not fit; the fit lines below count it): ${parts.join(', ')}.`,
    );
  }
  if (e.streamingPeakBytes !== null) {
    lines.push(
      `low-memory loads each component whole; streaming its blocks two at a time (not implemented) would need ${gb(e.streamingPeakBytes)}.`,
    );
  }
  if (!configs.text)
    lines.push('no mllm/ folder: prompt encoding is not counted (this folder runs from prompt embeddings).');
  return `${lines.join('\n')}\n\n`;
}

function fitLine(what: string, advice: FitAdvice, source: string): string {
  const head = `${what}: ${gb(advice.availableBytes)} ${source}; a job may plan on ${Math.round(USABLE_FRACTION * 100)} % of it.`;
  if (advice.fits) return `${head} Fits (peak ${gb(advice.peakBytes)}).\n`;
  const s = advice.suggestion;
  if (!s)
    return `${head} Does not fit (peak ${gb(advice.peakBytes)}), not with another mode, a lower precision, or down to a quarter of the size.\n`;
  return `${head} Does not fit (peak ${gb(advice.peakBytes)}); this would (${gb(s.peakBytes)}): --memory-mode ${s.mode} --precision ${s.precision} --width ${s.width} --height ${s.height}\n`;
}
