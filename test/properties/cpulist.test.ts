// CPU sets print as the kernel's cpulist ("%*pbl"): ranges, so 256 CPUs take a few characters.
import { describe, expect, it } from 'vitest';
import { cpulist } from '../../properties/cpulist.ts';

describe('cpulist', () => {
  it('prints runs as ranges and lone CPUs alone, as /sys/devices/system/cpu/online does', () => {
    expect(cpulist([])).toBe('');
    expect(cpulist([0])).toBe('0');
    expect(cpulist([0, 1])).toBe('0-1');
    expect(cpulist([0, 1, 2, 3, 5, 7, 8])).toBe('0-3,5,7-8');
    expect(cpulist(Array.from({ length: 256 }, (_, i) => i))).toBe('0-255');
    expect(cpulist([1, 3, 5])).toBe('1,3,5');
  });
});
