// Malformed command lines: each has one flaw (an unknown flag, a value out of its range or
// set, a prototype name, an empty value, a flag that means nothing in its mode, a stray
// argument) among valid flags; each is refused with one line naming the flag.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cli, expectRefused, sandbox, type Sandbox } from './helpers.ts';

const PROTO = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'prototype'];
const junk = fc.oneof(
  fc.constantFrom(...PROTO, '', ' ', '-1', '1e3', '0x10', 'NaN', 'Infinity', '1.5.5', '\u00e9', '99999999999999999999'),
  fc.string({ maxLength: 12 }),
);

/** Per flag, values it must refuse (whatever else is on the line). */
const BAD_VALUES: readonly [string, fc.Arbitrary<string>][] = [
  [
    '--seed',
    fc.oneof(
      junk.filter((s) => !/^\d{1,10}$/.test(s) || Number(s) > 0xffffffff),
      fc.constant('4294967296'),
      fc.integer({ max: -1 }).map(String),
    ),
  ],
  ['--budget', junk.filter((s) => !['quick', 'ci', 'deep'].includes(s))],
  [
    '--cpus',
    fc.oneof(
      fc.constantFrom('0', '257', '1000', '-3', '2.5', ''),
      junk.filter((s) => !/^\d+$/.test(s)),
    ),
  ],
  ['--property', junk.filter((s) => !/^(update-contract|td-preservation|firmware-faults|corrupt-images|concurrency)$/.test(s))],
  ['--fault', junk.filter((s) => !/^(B\d+|[a-z]+(-[a-z]+)+)$/.test(s))],
  ['--kernel', junk.filter((s) => !['v2', 'compat', 'upstream', 'all'].includes(s))],
  ['--shard', fc.oneof(fc.constantFrom('3/2', '0/1', '1/0', '1/1025', '1/2/3', '', '/', '-1/2'), junk)],
  [
    '--time-limit',
    fc.oneof(
      fc.constantFrom('86401', '-1', '1e2', '', '.5'),
      junk.filter((s) => !/^\d{1,6}(\.\d{1,3})?$/.test(s)),
    ),
  ],
  [
    '--progress',
    fc.oneof(
      fc.constantFrom('86401', '-1', ''),
      junk.filter((s) => !/^\d{1,6}(\.\d{1,3})?$/.test(s)),
    ),
  ],
  ['--faults', junk.filter((s) => s !== 'all')],
  ['--reports', fc.constantFrom('', 'test/corpus')],
  ['--corpus', fc.constant('')],
  ['--replay', fc.constant('')],
];

const badValue = fc.constantFrom(...BAD_VALUES).chain(([flag, v]) => v.map((value) => ({ flag, tokens: [`${flag}=${value}`] })));
const unknownFlag = fc
  .oneof(fc.constantFrom(...PROTO), fc.stringMatching(/^[a-z][a-z-]{0,14}$/))
  .filter(
    (s) =>
      ![
        'seed',
        'budget',
        'property',
        'cpus',
        'fault',
        'kernel',
        'path',
        'reports',
        'replay',
        'shard',
        'merge',
        'corpus',
        'no-corpus',
        'require-runs',
        'time-limit',
        'progress',
        'list',
        'help',
        'faults',
      ].includes(s),
  )
  .map((s) => ({ flag: `--${s}`, tokens: [`--${s}`] }));
const noMeaning = fc.oneof(
  fc
    .constantFrom('--seed=1', '--budget=ci', '--property=concurrency', '--cpus=2', '--fault=B2', '--kernel=v2', '--shard=1/2', '--time-limit=1', '--path=1:2')
    .map((f) => ({ flag: f.split('=')[0]!, tokens: ['--merge', 'a.json', f] })),
  fc
    .constantFrom('--seed=1', '--budget=ci', '--property=concurrency', '--cpus=2', '--path=1', '--shard=1/2', '--time-limit=1', '--require-runs')
    .map((f) => ({ flag: f.split('=')[0]!, tokens: ['--replay=x.json', f] })),
);
const stray = fc.stringMatching(/^[a-z0-9./]{1,10}$/).map((s) => ({ flag: s, tokens: [s] }));
/** Valid flags that change nothing about the flaw (none of them is a mode). */
const valid = fc.subarray(['--require-runs', '--progress=1', '--time-limit=5'].map((t) => [t]));

describe('malformed argv', () => {
  let box: Sandbox;
  beforeAll(() => {
    box = sandbox('argv');
  });
  afterAll(() => box.done());

  it('one flaw among valid flags: exit 2, one line naming the flag, nothing written', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(badValue, unknownFlag, noMeaning, stray), valid, async (bad, ok) => {
        // in --merge and --replay the valid flags mean nothing too: the flaw comes alone there
        const alone = bad.tokens.some((t) => t === '--merge' || t.startsWith('--replay'));
        const others = alone ? [] : ok.flat().filter((t) => !t.startsWith(`${bad.flag}=`) && t !== bad.flag);
        const r = await cli([...others, ...bad.tokens]);
        expectRefused(r, box.work, bad.flag);
      }),
      { numRuns: 300, seed: 15 },
    );
  });

  it.each([
    [['--seed', '-1'], '--seed must be \'random\' or a whole number from 0 to 4294967295, not "-1"'],
    [['--budget', 'constructor'], '--budget must be quick, ci or deep, not "constructor"'],
    [['--path', 'zz:zz', '--seed', '1', '--property', 'concurrency'], "--path must be fast-check's path"],
    [['--merge'], '--merge needs the shard files'],
    [['--reports='], '--reports needs a directory name, not ""'],
    [['--property'], '--property needs a value'],
    [['--seed', '--cpus', '2'], '--seed needs a value'],
    // fast-check would generate the 999,999,999 runs before it in one loop no signal ends
    [['--path', '999999999:0', '--seed', '1', '--property', 'concurrency'], '--path: run 999999999 is past the 100 runs of the quick budget'],
    [['--property', 'concurrency,td-preservation,concurrency'], '--property: concurrency is named twice'],
    [
      ['--scheduler', 'exhaustive', '--explore', '--cpus', '2', '--commands', '4', '--values', '16'],
      '--explore --commands 4 --values 16: 182638404 scenarios of update-contract, more than the 1000000 a run can explore',
    ],
    [['--replay', '\u001b]0;title\u0007.json'], 'verify: \\u001b]0;title\\u0007.json: no such file'],
  ])('%j: %s', async (argv, message) => {
    expectRefused(await cli(argv), box.work, message);
  });
});
