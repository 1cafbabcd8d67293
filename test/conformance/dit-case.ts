import { basename } from 'node:path';
import type { DitBatchInputs, FloatTensor } from '../../src-main/engine/models/dit.ts';
import { SafetensorsFile } from '../../src-main/engine/weights/safetensors.ts';

export type RopeRun = 'caption' | 'ref' | 'image' | 'full';

/** One batch item of a golden transformer case, with its padding removed. */
export interface DitCaseItem {
  readonly textLength: number;
  readonly latentShape: readonly [number, number, number];
  readonly refShapes: readonly (readonly [number, number, number])[];
  /** The reference's cos/sin rows for this item (valid rows only), `[rows, head_dim/2]`. */
  readonly rope: Readonly<Record<RopeRun, { cos: Float32Array; sin: Float32Array; rows: number }>>;
}

export interface DitCase {
  readonly name: string;
  readonly inputs: DitBatchInputs;
  readonly output: FloatTensor;
  readonly items: readonly DitCaseItem[];
}

/** Reads `case_*.safetensors` (layout: test/golden/README.md, transformer/). */
export function loadDitCase(path: string): DitCase {
  const f = SafetensorsFile.open(path);
  const tensor = (k: string): FloatTensor => ({ data: f.readFloat32(k), dims: f.get(k).shape });
  const latents = tensor('latents');
  const [B, C, h, w] = latents.dims as [number, number, number, number];
  const mask = f.readBigInt64('text_attention_mask');
  const L = f.get('text_attention_mask').shape[1]!;
  const refKeys = (b: number) =>
    [...f.tensors.keys()]
      .filter((k) => k.startsWith(`ref_${b}_`))
      .sort((x, y) => Number(x.split('_')[2]) - Number(y.split('_')[2]));
  const refs = Array.from({ length: B }, (_, b) => refKeys(b).map(tensor));
  const items = Array.from({ length: B }, (_, b): DitCaseItem => {
    const textLength = Array.from(mask.subarray(b * L, (b + 1) * L)).filter((m) => m !== 0n).length;
    const refShapes = refs[b]!.map((r) => r.dims as [number, number, number]);
    const refRows = refShapes.reduce((a, [, rh, rw]) => a + (rh / 2) * (rw / 2), 0);
    const imageRows = (h / 2) * (w / 2);
    const rows: Record<RopeRun, number> = {
      caption: textLength,
      ref: refRows,
      image: imageRows,
      full: textLength + refRows + imageRows,
    };
    const pick = (run: RopeRun, part: 'cos' | 'sin') => {
      const key = `rope_${run}_${part}`;
      const [, padded, pairs] = f.get(key).shape as [number, number, number];
      return f.readFloat32(key).slice(b * padded * pairs, (b * padded + rows[run]) * pairs);
    };
    const rope = Object.fromEntries(
      (['caption', 'ref', 'image', 'full'] as const).map((run) => [
        run,
        { cos: pick(run, 'cos'), sin: pick(run, 'sin'), rows: rows[run] },
      ]),
    );
    return { textLength, latentShape: [C, h, w], refShapes, rope: rope as DitCaseItem['rope'] };
  });
  return {
    name: basename(path, '.safetensors'),
    inputs: {
      latents,
      timestep: f.readFloat32('timestep'),
      textHiddenStates: tensor('text_hidden_states'),
      textMask: mask,
      refs,
    },
    output: tensor('output'),
    items,
  };
}

/** One batch item of one case: tests choose items by what they contain, whatever the case order or count. */
export interface DitCaseRef {
  readonly c: DitCase;
  readonly b: number;
  readonly item: DitCaseItem;
}

/** The item of `cases` that `better` prefers over every other (the first of equals); throws when there are none. */
export function pickItem(cases: readonly DitCase[], better: (x: DitCaseItem, y: DitCaseItem) => boolean): DitCaseRef {
  const all = cases.flatMap((c) => c.items.map((item, b) => ({ c, b, item })));
  if (all.length === 0) throw new Error('the golden folder has no transformer case items');
  return all.reduce((best, x) => (better(x.item, best.item) ? x : best));
}

/** Prefers the item with more reference images, then the longer text: the most conditioning in one call. */
export const moreConditioning = (x: DitCaseItem, y: DitCaseItem): boolean =>
  x.refShapes.length !== y.refShapes.length ? x.refShapes.length > y.refShapes.length : x.textLength > y.textLength;
