import { describe, expect, test } from 'vitest';
import { VaeConfigError, parseVaeConfig } from '../../../../src-main/engine/models/vae.ts';
import { FLUX_VAE_CONFIG } from './vae-fixtures.ts';

describe('parseVaeConfig', () => {
  test('the FLUX.1 config gives the figures of §1.4', () => {
    expect(parseVaeConfig(FLUX_VAE_CONFIG)).toEqual({
      inChannels: 3,
      outChannels: 3,
      latentChannels: 16,
      blockOutChannels: [128, 256, 512, 512],
      layersPerBlock: 2,
      normNumGroups: 32,
      midBlockAddAttention: true,
      useQuantConv: false,
      usePostQuantConv: false,
      scalingFactor: 0.3611,
      shiftFactor: 0.1159,
      downscaleFactor: 8,
    });
  });

  test('flags absent from older configs take diffusers defaults; a null shift means none', () => {
    const { use_quant_conv: _q, use_post_quant_conv: _p, mid_block_add_attention: _m, ...old } = FLUX_VAE_CONFIG;
    expect(parseVaeConfig({ ...old, shift_factor: null })).toMatchObject({
      useQuantConv: true,
      usePostQuantConv: true,
      midBlockAddAttention: true,
      shiftFactor: 0,
    });
  });

  test.each([
    [
      'block_out_channels',
      { block_out_channels: [128, 256, 500, 512] },
      /"block_out_channels" entry 500 is not divisible by norm_num_groups \(32\)/,
    ],
    ['block_out_channels', { block_out_channels: [] }, /non-empty list of positive integers/],
    ['norm_num_groups', { norm_num_groups: 0 }, /"norm_num_groups" must be an integer ≥ 1, got 0/],
    ['latent_channels', { latent_channels: undefined }, /"latent_channels" is missing/],
    ['layers_per_block', { layers_per_block: 2.5 }, /"layers_per_block" must be an integer/],
    ['down_block_types', { down_block_types: ['DownEncoderBlock2D'] }, /must list 4 blocks/],
    [
      'up_block_types',
      { up_block_types: Array(4).fill('AttnUpDecoderBlock2D') },
      /may only contain "UpDecoderBlock2D", got "AttnUpDecoderBlock2D"/,
    ],
    ['act_fn', { act_fn: 'gelu' }, /"act_fn" must be "silu"/],
    ['scaling_factor', { scaling_factor: 0 }, /"scaling_factor" must be a positive number/],
    ['shift_factor', { shift_factor: '0.1' }, /"shift_factor" must be a number or null/],
    ['use_quant_conv', { use_quant_conv: 'no' }, /"use_quant_conv" must be true or false/],
  ])('a wrong %s is refused, naming the key and the file', (key, change, message) => {
    const err = (() => {
      try {
        parseVaeConfig({ ...FLUX_VAE_CONFIG, ...change }, 'x/vae/config.json');
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(VaeConfigError);
    expect(err).toMatchObject({ key, source: 'x/vae/config.json' });
    expect((err as Error).message).toMatch(/^x\/vae\/config\.json: /);
    expect((err as Error).message).toMatch(message);
  });

  test('a non-object is refused', () => {
    expect(() => parseVaeConfig([1, 2])).toThrow(/is not a JSON object/);
  });
});
