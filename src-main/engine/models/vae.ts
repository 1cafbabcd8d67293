/** The FLUX-layout AutoencoderKL (model-notes.md §1.4, §5.2, §5.9); implementation in ./vae/. */
export {
  VaeModel,
  defaultVaeAttention,
  type VaeLoadOptions,
  type VaePosterior,
  type VaeTensor,
} from './vae/vae-model.ts';
export { LOGVAR_RANGE, VAE_GROUP_NORM_EPS, VaeConfigError, parseVaeConfig, type VaeConfig } from './vae/config.ts';
export { buildDecoderGraph, buildEncoderGraph, type VaeGraphName, type VaeGraphOptions } from './vae/graphs.ts';
export type { VaeAttentionOptions } from './vae/blocks.ts';
export { DEFAULT_VAE_TILES, axisWeights, runTiled, tileGrid, tileStarts, type VaeTileOptions } from './vae/tiling.ts';
