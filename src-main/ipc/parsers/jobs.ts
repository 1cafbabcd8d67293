import { arr, args, bytes, num, obj, oneOf, optional, str, tuple2 } from '../validate.ts';
import { reflectionJobParsers } from './reflection.ts';

const MAX_IMAGE_BYTES = 200 * 1024 * 1024;

const chatTurns = arr(obj({ role: oneOf(['user', 'assistant'] as const), text: str({ max: 20_000 }) }), { max: 1_000 });

export const recipeInput = obj({
  prompt: str({ max: 20_000 }),
  negativePrompt: str({ max: 20_000 }),
  seed: num({ int: true, min: 0, max: 2 ** 32 - 1 }),
  steps: num({ int: true, min: 1, max: 500 }),
  textGuidance: num({ min: 0, max: 30 }),
  imageGuidance: num({ min: 0, max: 30 }),
  cfgRange: tuple2(num({ min: 0, max: 1 }), num({ min: 0, max: 1 })),
  scheduler: oneOf(['euler', 'dpmsolver++'] as const),
  width: num({ int: true, min: 16, max: 8192 }),
  height: num({ int: true, min: 16, max: 8192 }),
  maxPixels: num({ int: true, min: 256, max: 64 * 1024 * 1024 }),
  maxSideLength: num({ int: true, min: 16, max: 16384 }),
  numImages: num({ int: true, min: 1, max: 8 }),
  acceleration: oneOf(['none', 'teacache', 'taylorseer'] as const),
  chat: optional(obj({ history: chatTurns })),
});

export const jobsParsers = {
  probe: args(obj({ size: num({ int: true, min: 1, max: 4096 }), runs: num({ int: true, min: 1, max: 1000 }) })),
  generate: args(
    obj({
      model: str({ nonEmpty: true, max: 4096 }),
      recipe: recipeInput,
      images: arr(bytes({ maxBytes: MAX_IMAGE_BYTES }), { max: 5 }),
    }),
  ),
  chat: args(
    obj({
      model: str({ nonEmpty: true, max: 4096 }),
      turns: chatTurns,
      images: arr(bytes({ maxBytes: MAX_IMAGE_BYTES }), { max: 5 }),
      maxNewTokens: optional(num({ int: true, min: 1, max: 4096 })),
    }),
  ),
  cancel: args(str({ nonEmpty: true, max: 200 })),
  list: args(),
  ...reflectionJobParsers(recipeInput),
};
