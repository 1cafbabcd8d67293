import {
  concatRopeTables,
  omniRopeIds,
  omniRopeTable,
  type RopeTable,
  type TokenGrid,
} from '../../sampling/omni-rope.ts';
import type { DitConfig } from './config.ts';

/** The rotation tables of one DiT call (§4): per token run, and joined as text ‖ refs ‖ image. */
export interface DitRopeTables {
  readonly text: RopeTable;
  readonly refs: readonly RopeTable[];
  readonly image: RopeTable;
  readonly joint: RopeTable;
}

export function ditRopeTables(
  cfg: DitConfig,
  textLength: number,
  refGrids: readonly TokenGrid[],
  outputGrid: TokenGrid,
): DitRopeTables {
  const ids = omniRopeIds(textLength, refGrids, outputGrid);
  const table = (p: Int32Array) => omniRopeTable(p, cfg.axesDimRope);
  const text = table(ids.text);
  const refs = ids.refs.map(table);
  const image = table(ids.image);
  return { text, refs, image, joint: concatRopeTables([text, ...refs, image], cfg.ropePairs) };
}
