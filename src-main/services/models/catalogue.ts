import type { CatalogueEntry } from '../../ipc/contract.ts';

/** Models Atelier knows how to run, first the one it is built for. Frozen data: the UI lists it before any download. */
export const CATALOGUE: readonly CatalogueEntry[] = Object.freeze([
  {
    repo: 'OmniGen2/OmniGen2',
    title: 'OmniGen2',
    description:
      'One model for text-to-image, instruction-based editing, composing several input images, and chatting about ' +
      'images. Qwen2.5-VL-3B understands the request; a 4-billion-parameter diffusion transformer and the FLUX VAE ' +
      'draw the picture. Runs fully on this computer once downloaded.',
    // bf16 weights: diffusion transformer ≈ 7.9 GB + Qwen2.5-VL-3B ≈ 7.5 GB + VAE, tokenizer and configs
    // (model-notes.md §1); the hub listing gives the exact figure before the download starts.
    approxBytes: 16_000_000_000,
    license: 'Apache-2.0',
    homepage: 'https://huggingface.co/OmniGen2/OmniGen2',
  },
]);

export function catalogueEntry(repo: string): CatalogueEntry | undefined {
  return CATALOGUE.find((e) => e.repo === repo);
}
