import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VaeModel, type VaeLoadOptions } from '../models/vae/vae-model.ts';
import type { LatentCodec } from './generate.ts';

/**
 * The model folder's VAE as the pipeline uses it: encode to the DiT's scaled latent (§5.2), decode from it (§5.9).
 * `release` frees the sessions; the next call creates them again.
 */
export async function loadVaeCodec(modelDir: string, options: VaeLoadOptions = {}): Promise<LatentCodec & { release(): Promise<void> }> {
  const root = resolve(modelDir);
  const componentDir = existsSync(join(root, 'vae', 'config.json')) ? join(root, 'vae') : root;
  const vae = await VaeModel.load(componentDir, root, options);
  return {
    latentChannels: vae.config.latentChannels,
    async encode(image, size) {
      const { mean } = await vae.encode({ data: image, dims: [1, vae.config.inChannels, size.height, size.width] });
      const latent = vae.latentFromMean(mean);
      return { data: latent.data, dims: latent.dims.slice(1) };
    },
    async decode(latent) {
      const out = await vae.decodeScaled({ data: latent.data, dims: [1, ...latent.dims] });
      const [, channels, height, width] = out.dims as [number, number, number, number];
      return { channels, height, width, data: out.data };
    },
    release: () => vae.release(),
  };
}
