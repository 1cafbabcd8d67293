import { ModelConfigError, configFail, requireJsonObject, type ConfigFail, type JsonObject } from '../config-error.ts';

/** A vae/config.json that cannot describe a supported AutoencoderKL, naming the offending key. */
export class VaeConfigError extends ModelConfigError {
  override readonly name = 'VaeConfigError';
}

/**
 * diffusers `AutoencoderKL` hyper-parameters (model-notes.md §1.4). FLUX.1: block_out_channels
 * [128, 256, 512, 512], 2 layers per block, 32 groups, 16 latent channels, no quant convs, scaling 0.3611,
 * shift 0.1159.
 */
export interface VaeConfig {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly latentChannels: number;
  readonly blockOutChannels: readonly number[];
  /** ResBlocks per encoder block; decoder blocks have one more (diffusers `layers_per_block + 1`). */
  readonly layersPerBlock: number;
  readonly normNumGroups: number;
  readonly midBlockAddAttention: boolean;
  readonly useQuantConv: boolean;
  readonly usePostQuantConv: boolean;
  readonly scalingFactor: number;
  /** 0 when the config has none (diffusers `shift_factor: null`: the pipeline skips the shift). */
  readonly shiftFactor: number;
  /** 2^(blocks − 1): image pixels per latent pixel along each axis (8 for FLUX). */
  readonly downscaleFactor: number;
}

/** Epsilon of every GroupNorm in the diffusers Encoder/Decoder (hard-coded there; §5.2, §9.3.6). */
export const VAE_GROUP_NORM_EPS = 1e-6;
/** DiagonalGaussianDistribution clamps the log-variance to this range (§5.2). */
export const LOGVAR_RANGE = { min: -30, max: 20 } as const;

/**
 * Validates a parsed config.json. Architecture keys are required; flags that newer diffusers releases
 * added (`use_quant_conv`, `use_post_quant_conv`, `mid_block_add_attention`, `shift_factor`) take
 * diffusers' defaults when absent.
 */
export function parseVaeConfig(json: unknown, source = 'vae/config.json'): VaeConfig {
  const raw = requireJsonObject(json, source, VaeConfigError);
  const fail = configFail(source, VaeConfigError);
  const int = (key: string, min: number): number => {
    const v = raw[key];
    if (v === undefined) fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      return fail(key, `must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
    return v;
  };
  const positive = (key: string): number => {
    const v = raw[key];
    if (v === undefined) fail(key, 'is missing');
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      return fail(key, `must be a positive number, got ${JSON.stringify(v)}`);
    return v;
  };
  const flag = (key: string, absent: boolean): boolean => {
    const v = raw[key] ?? absent;
    if (typeof v !== 'boolean') return fail(key, `must be true or false, got ${JSON.stringify(v)}`);
    return v;
  };

  const blocks = raw.block_out_channels;
  if (!Array.isArray(blocks) || blocks.length === 0 || !blocks.every((c) => Number.isInteger(c) && c > 0)) {
    return fail('block_out_channels', `must be a non-empty list of positive integers, got ${JSON.stringify(blocks)}`);
  }
  const blockOutChannels = blocks as number[];
  const normNumGroups = int('norm_num_groups', 1);
  for (const c of blockOutChannels) {
    if (c % normNumGroups !== 0)
      fail(
        'block_out_channels',
        `entry ${c} is not divisible by norm_num_groups (${normNumGroups}): GroupNorm needs whole groups`,
      );
  }
  blockTypes(raw, 'down_block_types', 'DownEncoderBlock2D', blockOutChannels.length, fail);
  blockTypes(raw, 'up_block_types', 'UpDecoderBlock2D', blockOutChannels.length, fail);
  const act = raw.act_fn ?? 'silu';
  if (act !== 'silu')
    fail('act_fn', `must be "silu" (the only activation this engine builds), got ${JSON.stringify(act)}`);
  const shift = raw.shift_factor ?? 0;
  if (typeof shift !== 'number' || !Number.isFinite(shift))
    fail('shift_factor', `must be a number or null, got ${JSON.stringify(shift)}`);

  return {
    inChannels: int('in_channels', 1),
    outChannels: int('out_channels', 1),
    latentChannels: int('latent_channels', 1),
    blockOutChannels,
    layersPerBlock: int('layers_per_block', 1),
    normNumGroups,
    midBlockAddAttention: flag('mid_block_add_attention', true),
    useQuantConv: flag('use_quant_conv', true),
    usePostQuantConv: flag('use_post_quant_conv', true),
    scalingFactor: positive('scaling_factor'),
    shiftFactor: shift as number,
    downscaleFactor: 2 ** (blockOutChannels.length - 1),
  };
}

/** `down_block_types` / `up_block_types`, when present, must name the one block kind per entry of block_out_channels. */
function blockTypes(raw: JsonObject, key: string, kind: string, count: number, fail: ConfigFail): void {
  const v = raw[key];
  if (v === undefined) return;
  if (!Array.isArray(v) || v.length !== count)
    fail(key, `must list ${count} blocks (one per block_out_channels entry), got ${JSON.stringify(v)}`);
  const other = (v as unknown[]).find((t) => t !== kind);
  if (other !== undefined) fail(key, `may only contain "${kind}", got ${JSON.stringify(other)}`);
}
