/**
 * How much of the model stays loaded (settings `memoryMode`, GenerateJob.memoryMode):
 * - `all-resident`: MLLM, DiT and VAE stay loaded between stages and jobs (fastest; most memory);
 * - `one-at-a-time`: the MLLM never shares memory with the DiT: it is freed once the prompts are encoded, and
 *   the DiT is freed before the MLLM loads again. The VAE is loaded for each encode/decode call and freed
 *   after it (next to the DiT, whose weights it adds ~2 % to);
 * - `low-memory`: strictly one component at a time (the DiT is also freed around VAE calls, and reloaded for
 *   every image), sessions without weight prepacking, and the VAE attention in its smallest query pieces.
 *   It does not stream layers: each component is still loaded whole, so the peak is that of the largest one.
 */
export type MemoryMode = 'all-resident' | 'one-at-a-time' | 'low-memory';
export const MEMORY_MODES: readonly MemoryMode[] = ['all-resident', 'one-at-a-time', 'low-memory'];

/** VAE mid-block query pieces in low-memory mode: a materialised score block is (S/16)×S, 64 MiB at 1024². */
export const LOW_MEMORY_VAE_QUERY_CHUNKS = 16;
