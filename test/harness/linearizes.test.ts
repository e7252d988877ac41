// A hotplug command always takes effect or fails, at its linearization point: one whose task
// returns without reporting it (cpu_down returning at once) is a wrong result, not a pass.
import { describe, expect, it, vi } from 'vitest';
import { runScenario } from '../../harness/run.ts';
import { NO_BUGS } from '../../impl/faults.ts';
import { V2 } from '../../properties/revisions/index.ts';
import { hostData, offline, online, scenario } from '../impl/kernel/helpers.ts';

const skip = vi.hoisted(() => ({ fn: '' }));

vi.mock('../../impl/kernel/hotplug.ts', async (real) => {
  const m = await real<typeof import('../../impl/kernel/hotplug.ts')>();
  const cut = <A extends unknown[]>(name: string, f: (...a: A) => Generator) =>
    function* (...a: A) {
      if (skip.fn !== name) return yield* f(...a);
    };
  return { ...m, cpuDown: cut('cpuDown', m.cpuDown), cpuUp: cut('cpuUp', m.cpuUp) };
});

describe('hotplug commands linearize', () => {
  it.each([
    ['cpuDown', [offline(1)], 'cpu_offline'],
    ['cpuUp', [offline(1), online(1)], 'cpu_online'],
  ])('%s returning without its linearization point is reported', (fn, commands, op) => {
    const s = scenario(hostData(2), commands);
    expect(runScenario(s, { revision: V2, bugs: NO_BUGS }).violation).toBeNull();
    skip.fn = fn;
    const r = runScenario(s, { revision: V2, bugs: NO_BUGS });
    skip.fn = '';
    expect(r.violation).toMatchObject({
      id: 'result',
      message: `${commands.length}. ${fn === 'cpuDown' ? 'offline' : 'online'}(cpu 1) returned without taking effect or failing: no ${op} linearization point`,
    });
  });
});
