import { reflection } from '../../services/projects/project-schema.ts';
import { SchemaError, hash, type Check } from '../../services/projects/schema-checks.ts';
import { PayloadError, args, arr, bytes, num, obj, oneOf, str } from '../validate.ts';

const MAX_IMAGE_BYTES = 200 * 1024 * 1024;
const TAGS = ['object', 'count', 'color', 'attribute', 'position', 'text', 'style'] as const;

const orNull =
  <T>(check: Check<T>): Check<T | null> =>
  (v, path) =>
    v === null ? null : check(v, path);
/** The project schema is shared with the file reader; here its failures are bad payloads. */
const fromSchema =
  <T>(check: Check<T>): Check<T> =>
  (v, path) => {
    try {
      return check(v, path);
    } catch (e) {
      throw e instanceof SchemaError ? new PayloadError(e.message) : e;
    }
  };

/**
 * Payload checks of jobs.reflect and jobs.acceptReflection (reflection.md §4; limits from §4.2 and §4.6). The recipe
 * check is jobs.ts's, passed in (importing it here would make the two modules import each other).
 */
export const reflectionJobParsers = <R>(recipeInput: Check<R>) => ({
  reflect: args(
    obj({
      model: str({ nonEmpty: true, max: 4096 }),
      recipe: recipeInput,
      images: arr(bytes({ maxBytes: MAX_IMAGE_BYTES }), { max: 5 }),
      maxRevisions: num({ int: true, min: 0, max: 5 }),
      threshold: num({ min: 0, max: 1 }),
      force: arr(oneOf(['auto', 'edit', 'regenerate'] as const), { max: 5 }),
      checklist: orNull(arr(obj({ question: str({ nonEmpty: true, max: 1_000 }), tag: oneOf(TAGS) }), { max: 8 })),
      continueFrom: orNull(
        obj({
          session: fromSchema(reflection),
          roundId: str({ nonEmpty: true, max: 200 }),
          image: obj({ hash: fromSchema(hash), bytes: bytes({ maxBytes: MAX_IMAGE_BYTES }) }),
          fix: orNull(str({ nonEmpty: true, max: 1_000 })),
        }),
      ),
    }),
  ),
  acceptReflection: args(str({ nonEmpty: true, max: 200 })),
});
