// `--jobs N` (harness/cli/jobs.ts): the run as N shards in child processes, then merged. The
// merged proof is the unsharded one; a SIGTERM to the parent alone reaches the children, and
// what they wrote is merged; flags that make no sense with it are refused.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.ts';

const verify = (args: readonly string[]) => spawnSync(process.execPath, ['harness/cli.mjs', ...args], { encoding: 'utf8', cwd: ROOT });
const tmp = () => mkdtempSync(join(tmpdir(), 'verify-jobs-'));
const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
const PROOF = '--property td-preservation,corrupt-images --scheduler exhaustive --explore --cpus 2 --commands 1 --no-corpus --progress 0'.split(' ');

describe('--jobs N', () => {
  it('two jobs merge into the proof one process gives: the same scenarios, executions and distinct states', () => {
    const one = tmp(),
      two = tmp();
    const a = verify([...PROOF, '--reports', one]);
    const b = verify([...PROOF, '--jobs', '2', '--reports', two]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    expect(b.stdout).toContain('merging 2 shard(s)');
    const proved = (out: string) => out.split('\n').find((l) => l.startsWith('proved within the bound'));
    expect(proved(b.stdout)).toBe(proved(a.stdout));
    const [x, y] = [summary(one).exploration, summary(two).exploration];
    expect(y).toEqual({ ...x, complete: true });
    expect(Object.keys(y.domain)).toEqual(['td-preservation', 'corrupt-images']);
    expect(summary(two).merged).toHaveLength(2);
  });

  it('a SIGTERM to the parent alone stops the children cleanly; their reports are merged, exit 143', async () => {
    const dir = tmp();
    const args = ['harness/cli.mjs', '--property', 'concurrency', '--budget', 'deep', '--jobs', '2', '--progress', '0.2', '--no-corpus', '--reports', dir];
    const child = spawn(process.execPath, args, { cwd: ROOT });
    let out = '',
      err = '';
    child.stdout.on('data', (d) => {
      out += d;
      // both shards are searching: each has printed a progress line
      if (/\[shard 1\/2\] progress: /.test(out) && /\[shard 2\/2\] progress: /.test(out) && !child.killed) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code, err).toBe(143);
    expect(err).toMatch(/\[shard 1\/2\] verify: SIGTERM: stopping/);
    expect(err).toMatch(/\[shard 2\/2\] verify: SIGTERM: stopping/);
    expect(summary(dir)).toMatchObject({ status: 'interrupted', merged: [expect.any(String), expect.any(String)] });
  }, 60_000);

  it("children that fail end the run with one line, the first one's quoted once, exit 2", () => {
    const dir = tmp();
    // where each shard writes its reports there is a file: each refuses to start
    mkdirSync(join(dir, 'jobs'));
    for (const i of ['1', '2']) writeFileSync(join(dir, 'jobs', i), '');
    const r = verify(['--property', 'corrupt-images', '--jobs', '2', '--no-corpus', '--progress', '0', '--reports', dir]);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(/^verify: shard 1\/2 failed \(exit 2\): verify: --reports \S+jobs\/1: /)]);
  });

  it('a reports directory the merge cannot write into is refused before any child runs', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'summary.json'));
    const r = verify(['--property', 'corrupt-images', '--jobs', '2', '--no-corpus', '--progress', '0', '--reports', dir]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`verify: --reports ${dir}: summary.json there is a directory, not a file (npm run verify -- --help)\n`);
    expect(readdirSync(dir)).toEqual(['summary.json']);
  });

  it.each([
    [['--jobs', '2', '--shard', '1/2'], /^verify: --jobs splits the run into shards itself; --shard does not apply/],
    [['--jobs', '0'], /^verify: --jobs must be a whole number from 1 to 64, not "0" \(/],
    [['--merge', 'x.json', '--jobs', '2'], /^verify: --merge adds up shard summaries as they were run; --jobs does not apply/],
  ])('%j is refused with one line and exit 2', (args, line) => {
    const r = verify(args);
    expect(r.status).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  });
});
