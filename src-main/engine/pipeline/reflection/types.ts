import type { GenerationParams } from '../generate.ts';

/** Check categories of the checklist (reflection.md §4.2); the same names as the project file's CheckTag. */
export type CheckTag = 'object' | 'count' | 'color' | 'attribute' | 'position' | 'text' | 'style';
export const CHECK_TAGS: readonly CheckTag[] = ['object', 'count', 'color', 'attribute', 'position', 'text', 'style'];

/** A check as the user may edit it: a yes/no question and its category. */
export interface CheckSpec {
  readonly question: string;
  readonly tag: CheckTag;
}

export interface Check extends CheckSpec {
  /** Indices of the object checks this one presumes (DSG, §4.2): while one of them fails, this one is not asked. */
  readonly dependsOn: readonly number[];
}

/** Where the job's checklist came from (§4.2). */
export type ChecklistSource = 'template' | 'model' | 'fallback' | 'user';

export interface CheckResult {
  readonly check: Check;
  /** p_yes from the first-token logits (§4.3); null when not asked because an object it presumes failed. */
  readonly pYes: number | null;
  readonly passed: boolean;
}

/** The §4.6 ranking of a round: checks passed first, then mean p_yes (an unasked check counts 0). */
export interface RoundScore {
  readonly passed: number;
  readonly total: number;
  readonly meanPYes: number;
}

export type RoundMode = 'generate' | 'edit' | 'regenerate';
/** A per-revision override of the §4.5 choice. */
export type ForcedMode = 'auto' | 'edit' | 'regenerate';

/** The critic's proposed fix for a round (§4.4). */
export interface FixRecord {
  /** The model's reply as decoded. */
  readonly raw: string;
  /** The accepted `EDIT:` instruction; null when the reply did not parse or was rejected. */
  readonly parsed: string | null;
  /** What the next edit uses: `parsed`, else the deterministic fallback from the failed check. */
  readonly instruction: string;
}

/** Why the loop stopped (§4.6); the project file's ReflectionSession.stopReason. */
export type StopReason = 'done' | 'max-rounds' | 'no-progress' | 'repeated-failures' | 'user';

/** One round as the engine reports it: a node of the session's tree (§4.7). Images are named by sha256 of their bytes. */
export interface RoundRecord {
  readonly id: string;
  /** null for round 0. */
  readonly parentId: string | null;
  /** Depth in the tree: 0 for the first image, +1 per revision. */
  readonly index: number;
  readonly mode: RoundMode;
  /** The exact prompt (generate, regenerate) or edit instruction the generator got. */
  readonly text: string;
  readonly seed: number;
  /** The generation parameters as used (the seed and, for edits, the image guidance of §4.5 included). */
  readonly params: GenerationParams;
  /** sha256 of each input image's encoded bytes (the job's sources, or the parent's output PNG). */
  readonly inputImages: readonly string[];
  /** sha256 of the output PNG; null while generating or when the round was cut short. */
  readonly outputImage: string | null;
  /** Empty until critiqued. */
  readonly results: readonly CheckResult[];
  readonly score: RoundScore | null;
  readonly fix: FixRecord | null;
  /** The §4.5 choice was overruled to Regenerate (two edits in a row, or the same edit failed twice). */
  readonly escalated: boolean;
  readonly timings: {
    readonly generateMs: number | null;
    readonly critiqueMs: number | null;
    readonly fixMs: number | null;
  };
}

/** A round's image, sent once, with the first record that names it. */
export interface RoundImage {
  readonly png: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Live state per round (§4.7: checking → writing fix → generating); 'listing-checks' precedes round 0. */
export type ReflectionStage = 'listing-checks' | 'generating' | 'checking' | 'writing-fix';

export type ReflectionEvent =
  | {
      readonly type: 'checklist';
      readonly checks: readonly Check[];
      readonly source: ChecklistSource;
      readonly raw: string | null;
    }
  | { readonly type: 'stage'; readonly roundId: string | null; readonly stage: ReflectionStage }
  /** A round's record whenever it changes (created, generated, critiqued, fix written). */
  | { readonly type: 'round'; readonly round: RoundRecord; readonly image?: RoundImage }
  | { readonly type: 'denoise'; readonly roundId: string; readonly step: number; readonly steps: number };

export interface ReflectionOutcome {
  readonly checks: readonly Check[];
  readonly checklistSource: ChecklistSource;
  /** The rounds this run made, in order (parents first). */
  readonly rounds: readonly RoundRecord[];
  /** The best-scoring round among those compared (§4.6); null when none was critiqued. */
  readonly bestRoundId: string | null;
  readonly stopReason: StopReason;
}
