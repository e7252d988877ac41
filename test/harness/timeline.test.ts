// The timeline names the errnos the kernel returns.
import { describe, expect, it } from 'vitest';
import { errnoName } from '../../harness/timeline.ts';
import { EIO, ENODEV } from '../../impl/kernel/errno.ts';

describe('timeline', () => {
  it('names errnos, and shows a number it has no name for', () => {
    expect([0, -EIO, -ENODEV, -6, -22, -28, -125, -99].map(errnoName)).toEqual(['0', '-EIO', '-ENODEV', '-ENXIO', '-EINVAL', '-ENOSPC', '-ECANCELED', '-99']);
  });
});
