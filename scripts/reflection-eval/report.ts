// The evaluation report (reflection.md §4.8): strict accuracy overall and per tag for each arm, images used, wall
// time, regressions against round 0, the loop's stop reasons, the ship rule, and agreement with GenEval's official
// scorer when its results are given. Pure: records in, Markdown out.
import { readFileSync } from 'node:fs';
import type { ArmName } from './arms.ts';
import type { JudgedQuestion } from './judge.ts';
import { EVAL_TAGS, type EvalTag } from './spec.ts';

/** One line of results.jsonl: one arm's final image for one prompt and seed, as judged. */
export interface EvalRecord {
  readonly index: number;
  readonly tag: EvalTag;
  readonly prompt: string;
  readonly seed: number;
  readonly arm: ArmName;
  readonly strict: boolean;
  readonly questions: readonly JudgedQuestion[];
  readonly imagesUsed: number;
  readonly ms: number;
  readonly loop?: { readonly stopReason: string; readonly modes: readonly string[] };
  /** The image, relative to the output folder (GenEval's folder layout). */
  readonly file: string;
}

export function loadRecords(path: string): EvalRecord[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as EvalRecord);
}

/** §4.8: ship the loop on by default only if it beats round 0 and matches best-of-N on these, with ≤ 5 % regressions. */
const SHIP_TAGS: readonly EvalTag[] = ['counting', 'colors', 'color_attr'];
const MAX_REGRESSION = 0.05;

const pct = (n: number, d: number) => (d === 0 ? '–' : `${((100 * n) / d).toFixed(1)} % (${n}/${d})`);
const rate = (rs: readonly EvalRecord[]) => (rs.length === 0 ? 0 : rs.filter((r) => r.strict).length / rs.length);
const key = (r: EvalRecord) => `${r.index}/${r.seed}`;

/** A question round 0 passed and this record fails. */
function regressed(r: EvalRecord, round0: EvalRecord | undefined): boolean {
  return round0 !== undefined && r.questions.some((q, i) => round0.questions[i]?.passed === true && !q.passed);
}

/**
 * @param geneval GenEval's own verdict per image file (`correct` of its results.jsonl), for the calibration section.
 */
export function buildReport(records: readonly EvalRecord[], geneval?: ReadonlyMap<string, boolean>): string {
  const arms = [...new Set(records.map((r) => r.arm))];
  const byArm = (arm: ArmName, tag?: EvalTag) =>
    records.filter((r) => r.arm === arm && (tag === undefined || r.tag === tag));
  const round0 = new Map(byArm('round0').map((r) => [key(r), r]));
  const lines: string[] = [
    '# Reflection evaluation',
    '',
    `${new Set(records.map(key)).size} prompt × seed pairs, ${arms.length} arms.`,
    '',
  ];

  lines.push(
    '## Strict accuracy (every check passes, in-app judge)',
    '',
    `| arm | overall | ${EVAL_TAGS.join(' | ')} |`,
    `|---|---|${EVAL_TAGS.map(() => '---').join('|')}|`,
  );
  for (const arm of arms) {
    const cells = EVAL_TAGS.map((t) => {
      const rs = byArm(arm, t);
      return pct(rs.filter((r) => r.strict).length, rs.length);
    });
    const all = byArm(arm);
    lines.push(`| ${arm} | ${pct(all.filter((r) => r.strict).length, all.length)} | ${cells.join(' | ')} |`);
  }

  lines.push(
    '',
    '## Cost and regressions',
    '',
    '| arm | images per prompt (mean / max) | wall time per prompt (mean) | regressions vs round 0 | fixed vs round 0 |',
    '|---|---|---|---|---|',
  );
  for (const arm of arms) {
    const rs = byArm(arm);
    const images = rs.map((r) => r.imagesUsed);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const reg = arm === 'round0' ? '–' : pct(rs.filter((r) => regressed(r, round0.get(key(r)))).length, rs.length);
    const fixed =
      arm === 'round0'
        ? '–'
        : pct(rs.filter((r) => r.strict && round0.get(key(r))?.strict === false).length, rs.length);
    lines.push(
      `| ${arm} | ${mean(images).toFixed(2)} / ${Math.max(0, ...images)} | ${(mean(rs.map((r) => r.ms)) / 1000).toFixed(1)} s | ${reg} | ${fixed} |`,
    );
  }

  const loops = records.filter((r) => r.loop);
  if (loops.length > 0) {
    lines.push('', '## Loop behaviour', '', '| arm | stop reasons | rounds by mode |', '|---|---|---|');
    for (const arm of arms.filter((a) => byArm(a).some((r) => r.loop))) {
      const count = (xs: string[]) =>
        Object.entries(xs.reduce<Record<string, number>>((m, x) => ({ ...m, [x]: (m[x] ?? 0) + 1 }), {}))
          .map(([k, v]) => `${k} ${v}`)
          .join(', ');
      const rs = byArm(arm);
      lines.push(
        `| ${arm} | ${count(rs.map((r) => r.loop!.stopReason))} | ${count(rs.flatMap((r) => [...r.loop!.modes]))} |`,
      );
    }
  }

  lines.push('', '## Ship rule (§4.8)', '', ...shipRule(records, byArm, round0));
  if (geneval) lines.push('', "## Agreement with GenEval's official scorer", '', ...agreement(records, geneval));
  return `${lines.join('\n')}\n`;
}

function shipRule(
  records: readonly EvalRecord[],
  byArm: (arm: ArmName, tag?: EvalTag) => EvalRecord[],
  round0: ReadonlyMap<string, EvalRecord>,
): string[] {
  const has = (arm: ArmName) => records.some((r) => r.arm === arm);
  if (!has('loop') || !has('round0') || !has('best-of-n')) return ['Needs the round0, loop and best-of-n arms.'];
  const out: string[] = [];
  let ok = true;
  for (const tag of SHIP_TAGS) {
    const [loop, r0, best] = [rate(byArm('loop', tag)), rate(byArm('round0', tag)), rate(byArm('best-of-n', tag))];
    const pass = loop > r0 && loop >= best;
    ok &&= pass;
    out.push(
      `- ${tag}: loop ${(100 * loop).toFixed(1)} % vs round 0 ${(100 * r0).toFixed(1)} %, best-of-n ${(100 * best).toFixed(1)} % → ${pass ? 'meets' : 'fails'}`,
    );
  }
  const loops = byArm('loop');
  const regressions = loops.filter((r) => regressed(r, round0.get(key(r)))).length / Math.max(1, loops.length);
  ok &&= regressions <= MAX_REGRESSION;
  out.push(
    `- regressions: ${(100 * regressions).toFixed(1)} % (limit ${100 * MAX_REGRESSION} %)`,
    '',
    ok ? '**Verdict: the loop may ship on by default.**' : '**Verdict: ship the loop as an opt-in tool.**',
  );
  return out;
}

function agreement(records: readonly EvalRecord[], geneval: ReadonlyMap<string, boolean>): string[] {
  const out = [
    '| tag | agreement (in-app strict = GenEval correct) | in-app accuracy | GenEval accuracy |',
    '|---|---|---|---|',
  ];
  for (const tag of EVAL_TAGS) {
    const rs = records.filter((r) => r.tag === tag && geneval.has(r.file));
    const agree = rs.filter((r) => geneval.get(r.file) === r.strict).length;
    const official = rs.filter((r) => geneval.get(r.file)).length;
    out.push(
      `| ${tag} | ${pct(agree, rs.length)} | ${pct(rs.filter((r) => r.strict).length, rs.length)} | ${pct(official, rs.length)} |`,
    );
  }
  out.push('', 'Trust the in-app numbers only for the tags where they track the official scorer.');
  return out;
}

/**
 * GenEval's `evaluate_images.py` output (one JSON object per line with `filename` and `correct`) as a map from our
 * relative file names, which end its `filename` paths.
 */
export function loadGenevalResults(path: string, files: readonly string[]): Map<string, boolean> {
  const verdicts = new Map<string, boolean>();
  for (const line of readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')) {
    const { filename, correct } = JSON.parse(line) as { filename?: string; correct?: boolean };
    const file = files.find((f) => filename?.replaceAll('\\', '/').endsWith(f));
    if (file !== undefined && typeof correct === 'boolean') verdicts.set(file, correct);
  }
  return verdicts;
}
