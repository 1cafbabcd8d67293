// `npm run bench -- precision [--runs N] [--only fp16|quant]`: issue 9's closing figures on this CPU.
// fp16: deviation of fp16-mixed / fp16-pure (emulated, see onnx/precision.ts) from fp32 for the DiT, the VAE and
// the Qwen text decoder, on the golden tiny models and mid-size synthetic ones (realistic weight scales, plus an
// FFN-outlier stress). quant: int8/int4 weight-only quantisation of the DiT and the text decoder: weight bytes,
// CPU latency, deviation from fp32 next to fp16-mixed's.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DIT_QUANTIZED_WEIGHTS } from '../../src-main/engine/models/dit.ts';
import { QWEN_QUANTIZED_WEIGHTS } from '../../src-main/engine/models/qwen-text.ts';
import {
  Checkpoint,
  precisionPolicy,
  type GraphPrecision,
  type Precision,
  type QuantSpec,
} from '../../src-main/engine/onnx/index.ts';
import { weightsForPrecision } from '../../src-main/engine/weights/precision-weights.ts';
import {
  copyComponent,
  deviation,
  ditForward,
  measured,
  qwenForward,
  vaeRoundtrip,
  type DitWorkload,
  type Measured,
} from './_precision.ts';
import { printTable } from './_report.ts';
import {
  FFN_OUTLIERS,
  MID_DIT_CONFIG,
  MID_QWEN_CONFIG,
  MID_VAE_CONFIG,
  writeSyntheticComponent,
} from './_synthetic-models.ts';
import { goldenDir } from '../../test/helpers/golden.ts';

const GOLDEN = goldenDir();
type Row = Record<string, string | number>;

/** A model under measurement: how to run it at a precision, and its output names. */
interface Subject {
  readonly label: string;
  readonly outputs: readonly string[];
  readonly run: (p: GraphPrecision, runs: number) => Promise<Measured>;
  /** Has linears marked outlier-prone (the SwiGLU down projections), so outlier scaling matters. */
  readonly swiGlu: boolean;
  /** For quantisation: the component's checkpoint, root and which weights it quantises. */
  readonly weights?: {
    readonly source: () => Checkpoint;
    readonly root: string;
    readonly component: string;
    readonly select: (key: string) => boolean;
  };
}

export const DIT_TINY_LOAD: DitWorkload = { textTokens: 12, latent: [16, 12], ref: [8, 8] };
export const DIT_MID_LOAD: DitWorkload = { textTokens: 64, latent: [32, 32], ref: [16, 16] };

function subjects(tmp: string): { fp16: Subject[]; quant: Subject[] } {
  const dit = (label: string, root: string, w: DitWorkload): Subject => ({
    label,
    outputs: ['velocity'],
    swiGlu: true,
    run: async (p, runs) => ditForward(root, p, w, { runs }),
    weights: {
      source: () => Checkpoint.open(join(root, 'transformer'), 'diffusion_pytorch_model'),
      root,
      component: 'transformer',
      select: DIT_QUANTIZED_WEIGHTS,
    },
  });
  const qwen = (label: string, dir: string): Subject => ({
    label,
    outputs: ['last hidden', 'logits'],
    swiGlu: true,
    run: async (p, runs) => qwenForward(dir, p, 48, { runs }),
    weights: {
      source: () => Checkpoint.open(dir, 'model'),
      root: dir,
      component: 'mllm',
      select: QWEN_QUANTIZED_WEIGHTS,
    },
  });
  const vae = (label: string, dir: string, root: string, size: [number, number]): Subject => ({
    label,
    outputs: ['latent mean', 'decoded'],
    swiGlu: false,
    run: async (p, runs) => vaeRoundtrip(dir, root, p, size, { runs }),
  });
  const at = (name: string) => join(tmp, name);
  const ditTiny = dit('DiT tiny golden (D 48)', at('dit-tiny'), DIT_TINY_LOAD);
  copyComponent(join(GOLDEN, 'transformer'), at('dit-tiny'), 'transformer', [
    'config.json',
    'diffusion_pytorch_model.safetensors',
  ]);
  writeSyntheticComponent(at('dit-mid'), 'transformer', MID_DIT_CONFIG);
  const ditMid = dit('DiT mid synthetic (D 640, 8+1 layers)', at('dit-mid'), DIT_MID_LOAD);
  writeSyntheticComponent(at('dit-stress'), 'transformer', MID_DIT_CONFIG, { rule: FFN_OUTLIERS });
  const ditStress = dit('DiT mid, FFN-outlier stress', at('dit-stress'), { ...DIT_MID_LOAD, ref: null });
  const qTiny = qwen(
    'Qwen text tiny golden (D 64)',
    copyComponent(join(GOLDEN, 'mllm'), at('qwen-tiny'), 'mllm', ['config.json', 'model.safetensors']),
  );
  const qMid = qwen(
    'Qwen text mid synthetic (D 512, 6 layers)',
    writeSyntheticComponent(at('qwen-mid'), 'mllm', MID_QWEN_CONFIG),
  );
  const qStress = qwen(
    'Qwen text mid, FFN-outlier stress',
    writeSyntheticComponent(at('qwen-stress'), 'mllm', MID_QWEN_CONFIG, { rule: FFN_OUTLIERS }),
  );
  const vTiny = vae(
    'VAE tiny golden (8–16 ch), 64×48',
    copyComponent(join(GOLDEN, 'vae'), at('vae-tiny'), 'vae', ['config.json', 'diffusion_pytorch_model.safetensors']),
    at('vae-tiny'),
    [64, 48],
  );
  const vMid = vae(
    'VAE FLUX widths (128–512 ch), 64×64',
    writeSyntheticComponent(at('vae-mid'), 'vae', MID_VAE_CONFIG),
    at('vae-mid'),
    [64, 64],
  );
  return {
    fp16: [ditTiny, ditMid, ditStress, vTiny, vMid, qTiny, qMid, qStress],
    quant: [ditTiny, ditMid, qTiny, qMid],
  };
}

const fmt = (x: number) => (x === 0 ? '0' : x.toExponential(2));

function deviationRows(s: Subject, variant: string, y: Measured, ref: Measured): Row[] {
  return s.outputs.map((name, i) => {
    const d = deviation(y.outputs[i]!, ref.outputs[i]!);
    return {
      model: s.label,
      output: name,
      variant,
      'max |Δ|': d.nonFinite ? '—' : fmt(d.maxAbs),
      'rel L2': d.nonFinite ? '—' : fmt(d.relL2),
      'max |ref|': fmt(d.refMax),
      'non-finite': d.nonFinite,
    };
  });
}

async function fp16Table(list: readonly Subject[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const s of list) {
    const ref = await s.run(measured('fp32'), 1);
    const variants: [string, GraphPrecision][] = [
      ['fp16-mixed', measured('fp16-mixed')],
      ...(s.swiGlu
        ? [
            ['fp16-mixed, no outlier scaling', measured('fp16-mixed', { outlierScaling: false })] as [
              string,
              GraphPrecision,
            ],
          ]
        : []),
      ['fp16-pure', measured('fp16-pure')],
    ];
    for (const [label, p] of variants) rows.push(...deviationRows(s, label, await s.run(p, 1), ref));
  }
  return rows;
}

const QUANT_VARIANTS: [string, QuantSpec][] = [
  ['int8 b64', { bits: 8, blockSize: 64, accuracyLevel: 0 }],
  ['int8 b64 acc4 (int8)', precisionPolicy('int8').quant!],
  ['int4 b64', { bits: 4, blockSize: 64, accuracyLevel: 0 }],
  ['int4 b32', { bits: 4, blockSize: 32, accuracyLevel: 0 }],
  ['int4 b32 acc4 (int4)', precisionPolicy('int4').quant!],
];

function quantPrecision(base: Precision, spec: QuantSpec): GraphPrecision {
  return { policy: { ...precisionPolicy(base), quant: spec }, emulateFloat16: false };
}

async function quantTable(list: readonly Subject[], runs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const s of list) {
    const w = s.weights!;
    const source = w.source();
    const selected = source
      .keys()
      .map((k) => source.info(k))
      .filter((t) => t.shape.length === 2 && w.select(t.name));
    const linearParams = selected.reduce((a, t) => a + t.shape[0]! * t.shape[1]!, 0);
    const ref = await s.run(measured('fp32'), runs);
    const half = await s.run(measured('fp16-mixed'), 1);
    const row = (variant: string, m: Measured, linearBytes: number, weightError: string, timed = true): Row => {
      const d = deviation(m.outputs[0]!, ref.outputs[0]!);
      return {
        model: s.label,
        variant,
        'linear weights MiB': linearBytes / 2 ** 20,
        'weight rel RMS err': weightError,
        output: s.outputs[0]!,
        'rel L2': fmt(d.relL2),
        'max |Δ|': fmt(d.maxAbs),
        'max |ref|': fmt(d.refMax),
        'rel L2 vs fp16-mixed': fmt(deviation(m.outputs[0]!, half.outputs[0]!).relL2),
        'CPU ms': timed ? m.ms : '—',
        speed: timed ? `${(ref.ms / m.ms).toFixed(2)}×` : '—',
      };
    };
    rows.push(row('fp32', ref, 4 * linearParams, '0'));
    // fp16 is emulated on CPU (slow by construction): its deviation is the point, not its time.
    rows.push(row('fp16-mixed', half, 2 * linearParams, '—', false));
    for (const [label, spec] of QUANT_VARIANTS) {
      const p = quantPrecision('int4', spec);
      const q = await weightsForPrecision(source, {
        modelRoot: w.root,
        component: w.component,
        precision: p,
        quantize: (k) => w.select(k),
        convert: 'cast',
      });
      const bytes = q.quantizedTensors.reduce((a, t) => a + t.quantizedBytes, 0);
      const err = Math.sqrt(
        q.quantizedTensors.reduce((a, t) => a + t.relRmsError ** 2 * t.rows * t.cols, 0) / linearParams,
      );
      rows.push(row(label, await s.run(p, runs), bytes, fmt(err)));
    }
  }
  return rows;
}

export async function run(args: string[]): Promise<void> {
  const option = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const runs = Number(option('--runs') ?? 3);
  const only = option('--only');
  const tmp = mkdtempSync(join(tmpdir(), 'atelier-bench-precision-'));
  try {
    const s = subjects(tmp);
    if (only !== 'quant') {
      printTable(
        'fp16 vs fp32 (one forward on seeded inputs; fp16 emulated on CPU: values rounded where a GPU stores fp16)',
        await fp16Table(s.fp16),
      );
    }
    if (only !== 'fp16') {
      printTable(
        `weight-only quantisation vs fp32 (CPU EP, median of ${runs} after a warm-up; linear weights = the quantised ones)`,
        await quantTable(s.quant, runs),
      );
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
