import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { configFail, readConfigFile, requireJsonObject } from '../config-error.ts';
import { QwenConfigError } from './config.ts';
import { GREEDY, checkSamplingOptions, type SamplingOptions } from './token-sampler.ts';

/** Decoding defaults of a checkpoint: its `generation_config.json` (§1.6), or greedy without one. */
export interface GenerationDefaults {
  readonly sampling: SamplingOptions;
  /** `eos_token_id` (one id or a list): these end a reply in addition to the chat stop tokens (§7.1). */
  readonly eosTokenIds: readonly number[];
}

/**
 * Reads `<mllmDir>/generation_config.json` the way transformers applies it: `do_sample: false` means greedy
 * whatever the temperature; missing fields keep transformers' defaults (temperature 1, top-p 1, top-k 50,
 * repetition penalty 1). Stock Qwen2.5-VL-3B: top_k 1 → effectively greedy with penalty 1.05.
 */
export function readGenerationDefaults(mllmDir: string): GenerationDefaults {
  const path = join(mllmDir, 'generation_config.json');
  if (!existsSync(path)) return { sampling: GREEDY, eosTokenIds: [] };
  const json = requireJsonObject(readConfigFile(path, QwenConfigError), path, QwenConfigError);
  const fail = configFail(path, QwenConfigError);
  const num = (key: string, fallback: number): number => {
    const v = json[key];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(key, `must be a number, got ${JSON.stringify(v)}`);
    return v;
  };
  const eos = json.eos_token_id;
  const eosTokenIds = eos === undefined || eos === null ? [] : Array.isArray(eos) ? eos : [eos];
  if (!eosTokenIds.every((id) => Number.isInteger(id) && id >= 0))
    fail('eos_token_id', `must be a token id or a list of them, got ${JSON.stringify(eos)}`);
  const repetitionPenalty = num('repetition_penalty', 1);
  const sampling: SamplingOptions =
    json.do_sample === true
      ? { temperature: num('temperature', 1), topP: num('top_p', 1), topK: num('top_k', 50), repetitionPenalty }
      : { ...GREEDY, repetitionPenalty };
  try {
    checkSamplingOptions(sampling);
  } catch (e) {
    throw new QwenConfigError('', path, `${path}: ${(e as Error).message}`);
  }
  return { sampling, eosTokenIds: eosTokenIds as number[] };
}
