import { describe, expect, test } from 'vitest';
import {
  fallbackInstruction,
  linkDependencies,
  parseChecklistReply,
  parseFix,
  parseTemplatedPrompt,
  preferredMode,
  readSlots,
  regenerationPrompt,
  removesRequired,
  statementOf,
  userChecklist,
  yesProbability,
  type Check,
  type CheckResult,
} from '../../../../../src-main/engine/pipeline/reflection.ts';
import { pluralize, singularize } from '../../../../../src-main/engine/pipeline/reflection/words.ts';

const questions = (checks: Check[] | null) =>
  checks?.map((c) => `${c.tag}: ${c.question} ${JSON.stringify(c.dependsOn)}`);

describe('GenEval-style prompts parse without a model call (§4.2)', () => {
  test.each([
    ['a photo of a cup', ['object: Is there a cup in the picture? []']],
    [
      'a photo of three red cups',
      [
        'object: Is there a cup in the picture? []',
        'count: Are there exactly three cups in the picture? [0]',
        'color: Are the cups red? [0]',
      ],
    ],
    [
      'A photo of 4 giraffes.',
      ['object: Is there a giraffe in the picture? []', 'count: Are there exactly four giraffes in the picture? [0]'],
    ],
    [
      'a photo of a dog right of a fire hydrant',
      [
        'object: Is there a dog in the picture? []',
        'object: Is there a fire hydrant in the picture? []',
        'position: Is the dog to the right of the fire hydrant? [0,1]',
      ],
    ],
    [
      'a photo of a red cup and a blue umbrella',
      [
        'object: Is there a cup in the picture? []',
        'object: Is there an umbrella in the picture? []',
        'color: Is the cup red? [0]',
        'color: Is the umbrella blue? [1]',
      ],
    ],
    [
      'a photo of a hot dog above a bench',
      [
        'object: Is there a hot dog in the picture? []',
        'object: Is there a bench in the picture? []',
        'position: Is the hot dog above the bench? [0,1]',
      ],
    ],
    [
      'a photo of two benches, a bus and three people',
      [
        'object: Is there a bench in the picture? []',
        'object: Is there a bus in the picture? []',
        'object: Is there a person in the picture? []',
        'count: Are there exactly two benches in the picture? [0]',
        'count: Are there exactly three people in the picture? [2]',
      ],
    ],
  ])('%s', (prompt, want) => expect(questions(parseTemplatedPrompt(prompt))).toEqual(want));

  test.each([
    'a cozy cabin in the snowy woods at dusk',
    'a photo of a dog wearing a tiny hat',
    'a photo of the dog',
    'a photo of a cute red dog',
    'a photo of three dogs left of a cat',
    'make the sky stormy',
  ])('not templated: %s', (prompt) => expect(parseTemplatedPrompt(prompt)).toBeNull());

  test('plurals both ways', () => {
    for (const [one, many] of [
      ['cup', 'cups'],
      ['bench', 'benches'],
      ['horse', 'horses'],
      ['glass', 'glasses'],
      ['cherry', 'cherries'],
      ['person', 'people'],
      ['knife', 'knives'],
      ['traffic light', 'traffic lights'],
    ]) {
      expect(pluralize(one!)).toBe(many);
      expect(singularize(many!)).toBe(one);
    }
  });
});

describe('MLLM checklist replies (§4.2)', () => {
  test('keeps `TAG | question?` lines, tolerates bullets and backticks, drops the rest', () => {
    const raw = [
      'Here are the checks:',
      '1. object | Is there a lighthouse?',
      '- `color | Is the lighthouse striped red and white?`',
      'Position | Is the lighthouse on a cliff?',
      'mood | Is it calm?',
      'object | Is there a boat',
      'text: Is there text?',
      '',
      'object | Is there a lighthouse?',
    ].join('\n');
    expect(parseChecklistReply(raw)).toEqual([
      { tag: 'object', question: 'Is there a lighthouse?' },
      { tag: 'color', question: 'Is the lighthouse striped red and white?' },
      { tag: 'position', question: 'Is the lighthouse on a cliff?' },
    ]);
  });

  test('caps at 8 checks', () => {
    const raw = Array.from({ length: 12 }, (_, i) => `attribute | Is detail ${i} present?`).join('\n');
    expect(parseChecklistReply(raw)).toHaveLength(8);
  });

  test('dependencies link checks to the object checks whose noun they mention', () => {
    const checks = linkDependencies([
      { tag: 'object', question: 'Is there a red car?' },
      { tag: 'object', question: 'Are there any dogs?' },
      { tag: 'color', question: 'Is the car red?' },
      { tag: 'position', question: 'Is the dog next to the car?' },
      { tag: 'style', question: 'Is it a watercolour?' },
    ]);
    expect(checks.map((c) => c.dependsOn)).toEqual([[], [], [0], [0, 1], []]);
  });

  test('user checklists are trimmed, de-duplicated and must not be empty', () => {
    expect(
      userChecklist([
        { tag: 'object', question: ' Is there a cup? ' },
        { tag: 'object', question: 'is there a cup?' },
      ]),
    ).toHaveLength(1);
    expect(() => userChecklist([{ tag: 'object', question: '  ' }])).toThrow(/no checks/);
  });
});

const result = (question: string, tag: Check['tag'], pYes: number | null, dependsOn: number[] = []): CheckResult => ({
  check: { question, tag, dependsOn },
  pYes,
  passed: pYes !== null && pYes >= 0.5,
});

describe('EDIT fixes (§4.4)', () => {
  test('the first EDIT line at a line start, with an allowed verb', () => {
    expect(parseFix('EDIT: Make the car red.')).toBe('Make the car red.');
    expect(parseFix('Okay.\nEDIT: Add a second cup to the left.\nEDIT: Remove it.')).toBe(
      'Add a second cup to the left.',
    );
    expect(parseFix('EDIT:Move the dog left of the cup')).toBe('Move the dog left of the cup');
    expect(parseFix('EDIT: Paint the car red.')).toBeNull();
    expect(parseFix('EDIT: make the car red.')).toBeNull();
    expect(parseFix('I would EDIT: Make the car red.')).toBeNull();
    expect(parseFix('EDIT: Add')).toBeNull();
    expect(parseFix(`EDIT: Make ${'x'.repeat(201)}`)).toBeNull();
    expect(parseFix('')).toBeNull();
  });

  test('fallbacks are written from the failed check', () => {
    const car = result('Is there a car in the picture?', 'object', 0.1);
    const red = result('Is the car red?', 'color', null, [0]);
    expect(fallbackInstruction(car, [car, red])).toBe('Add a red car.');
    expect(fallbackInstruction(result('Is the car red?', 'color', 0.2), [])).toBe('Make the car red.');
    expect(fallbackInstruction(result('Are there exactly three cups in the picture?', 'count', 0.2), [])).toBe(
      'Make there be exactly three cups.',
    );
    expect(fallbackInstruction(result('Is the dog to the left of the cup?', 'position', 0.2), [])).toBe(
      'Move the dog to the left of the cup.',
    );
    expect(fallbackInstruction(result('Is the dog below the cup?', 'position', 0.2), [])).toBe(
      'Move the dog below the cup.',
    );
    expect(fallbackInstruction(result('Is there a lighthouse?', 'object', 0.2), [])).toBe('Add a lighthouse.');
    expect(fallbackInstruction(result('Is the sky stormy?', 'attribute', 0.2), [])).toBe('Make the sky stormy.');
    expect(fallbackInstruction(result('Does the man wear a hat?', 'attribute', 0.2), [])).toBe(
      'Make the man wear a hat.',
    );
    expect(fallbackInstruction(result('Can you read "OPEN" on the sign?', 'text', 0.2), [])).toBe(
      'Change the picture so that the answer to "Can you read "OPEN" on the sign?" is yes.',
    );
  });

  test('a fix may not remove what the request asks for', () => {
    const checks: Check[] = [
      { question: 'Is there a cat in the picture?', tag: 'object', dependsOn: [] },
      { question: 'Are there exactly two dogs in the picture?', tag: 'count', dependsOn: [] },
      { question: 'Is there a dog in the picture?', tag: 'object', dependsOn: [] },
    ];
    expect(removesRequired('Remove the cat.', checks)).toBe(true);
    expect(removesRequired('Remove one of the dogs.', checks)).toBe(true);
    expect(removesRequired("Remove the bird from the cat's head.", checks)).toBe(false);
    expect(removesRequired('Replace the cat with a fox.', checks)).toBe(true);
    expect(removesRequired('Replace the grey cat with an orange cat.', checks)).toBe(false);
    expect(removesRequired('Make the cat orange.', checks)).toBe(false);
  });
});

describe('decisions (§4.5)', () => {
  test('local failures edit, layout failures regenerate', () => {
    expect(preferredMode([result('Is the car red?', 'color', 0.1)])).toBe('edit');
    expect(
      preferredMode([result('Is there a car?', 'object', 0.1), result('Is the car red?', 'color', null, [0])]),
    ).toBe('edit');
    expect(preferredMode([result('Are there exactly three cups?', 'count', 0.1)])).toBe('regenerate');
    expect(preferredMode([result('Is the dog left of the cup?', 'position', 0.1)])).toBe('regenerate');
    expect(preferredMode([result('Is there a car?', 'object', 0.1), result('Is there a dog?', 'object', 0.1)])).toBe(
      'regenerate',
    );
    expect(preferredMode(['a', 'b', 'c'].map((x) => result(`Is the ${x} shiny?`, 'attribute', 0.1)))).toBe(
      'regenerate',
    );
  });

  test('corrective clauses come from the original prompt and the checks failing now', () => {
    const failing = [
      result('Are there exactly three cups in the picture?', 'count', 0.1),
      result('Is the dog to the left of the cup?', 'position', 0.2),
      result('Is there a dog in the picture?', 'object', 0.9),
    ];
    expect(regenerationPrompt('a photo of three cups and a dog.', failing)).toBe(
      'a photo of three cups and a dog. Exactly three cups, the dog is to the left of the cup.',
    );
    expect(regenerationPrompt('a watercolour fox', [result('Is it moody?', 'style', 0.1)])).toBe('a watercolour fox');
  });

  test('statements and slots of the templated forms', () => {
    expect(statementOf('Are the cups red?')).toBe('the cups are red');
    expect(statementOf('Is there a cup in the picture?')).toBe('there is a cup');
    expect(statementOf('Is the sky stormy?')).toBe('the sky is stormy');
    expect(statementOf('Does the man wear a hat?')).toBeNull();
    expect(readSlots('Is the dog left of the cup?')).toEqual({
      kind: 'position',
      subject: 'dog',
      relation: 'left of',
      reference: 'cup',
    });
  });
});

describe('p_yes from first-token logits (§4.3)', () => {
  test('softmax over the yes and no forms only', () => {
    const logits = new Float32Array(10).fill(100); // other tokens do not matter, however likely
    logits[1] = 2;
    logits[2] = 1;
    logits[3] = 0;
    logits[4] = -1;
    const p = yesProbability(logits, { yes: [1, 2], no: [3, 4] });
    const e = [2, 1, 0, -1].map(Math.exp);
    expect(p).toBeCloseTo((e[0]! + e[1]!) / (e[0]! + e[1]! + e[2]! + e[3]!), 12);
    expect(yesProbability(Float32Array.of(0, 1000, -1000), { yes: [1], no: [2] })).toBe(1);
  });
});
