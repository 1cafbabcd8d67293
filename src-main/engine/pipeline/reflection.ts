/**
 * Reflection (reflection.md §4): the model checks its own result against the request with yes/no questions,
 * fixes what fails by editing or regenerating, and delivers the best round. Implementation in ./reflection/.
 */
export * from './reflection/types.ts';
export {
  MAX_CHECKS,
  buildChecklist,
  checklistRequest,
  fallbackChecklist,
  linkDependencies,
  parseChecklistReply,
  parseTemplatedPrompt,
  userChecklist,
} from './reflection/checklist.ts';
export {
  colorQuestion,
  countQuestion,
  objectQuestion,
  positionQuestion,
  readSlots,
  statementOf,
  type CheckSlots,
  type Relation,
} from './reflection/check-templates.ts';
export {
  critiqueIntro,
  fixRequest,
  questionTurn,
  scoreChecks,
  scoreOf,
  yesProbability,
  type AnswerTokens,
  type Critic,
  type CritiqueView,
  type Inspection,
} from './reflection/critic.ts';
export {
  EDIT_LINE,
  fallbackInstruction,
  parseFix,
  primaryFailure,
  proposeFix,
  removesRequired,
} from './reflection/fix.ts';
export {
  PipelineGenerator,
  type GeneratedRound,
  type RoundGenerator,
  type RoundRequest,
} from './reflection/generator.ts';
export {
  DEFAULT_MAX_REVISIONS,
  DEFAULT_THRESHOLD,
  EDIT_IMAGE_GUIDANCE,
  MAX_REVISIONS,
  checkReflectionParams,
  runReflection,
  type ContinueFrom,
  type ReflectionDeps,
  type ReflectionParams,
  type ReflectionRun,
  type SourceImage,
} from './reflection/loop.ts';
export {
  ModelCritic,
  answerTokens,
  type CriticModels,
  type ModelCriticOptions,
  type ModelInspection,
} from './reflection/model-critic.ts';
export {
  ProgressTracker,
  bestRound,
  compareScores,
  confirmEdit,
  planRevision,
  preferredMode,
  regenerationPrompt,
  roundSeed,
  stopAfter,
  type PathRound,
  type Plan,
} from './reflection/policy.ts';
export { runReflectJob, type ReflectJob, type ReflectReport, type StoredRound } from './reflection/reflect-job.ts';
