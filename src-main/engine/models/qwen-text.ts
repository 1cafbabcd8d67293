/** The Qwen2.5-VL text decoder of OmniGen2's MLLM (model-notes.md §1.5, §2.3, §9.1); implementation in ./qwen-text/. */
export { QwenConfigError, parseQwenTextConfig, type QwenTextConfig } from './qwen-text/config.ts';
export { EmbeddingTable } from './qwen-text/embeddings.ts';
export { buildQwenTextGraph, type QwenTextGraphOptions } from './qwen-text/graphs.ts';
export {
  QWEN_QUANTIZED_WEIGHTS,
  QwenTextModel,
  type KvCache,
  type QwenTextLoadOptions,
  type TextForwardInput,
  type TextForwardOutput,
} from './qwen-text/text-model.ts';
export { generateTokens, type DecoderPrompt, type GenerateOptions } from './qwen-text/generate.ts';
export { GREEDY, TokenSampler, checkSamplingOptions, type SamplingOptions } from './qwen-text/token-sampler.ts';
export { readGenerationDefaults, type GenerationDefaults } from './qwen-text/generation-config.ts';
