// The machine a bench run measured: CPU model, cores, memory, Node and fast-check versions.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly totalMemMiB: number;
  readonly node: string;
  readonly v8: string;
  readonly platform: string;
  readonly fastCheck: string;
}

function fastCheckVersion(): string {
  try {
    const url = new URL('../node_modules/fast-check/package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

export function machine(): Machine {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: os.availableParallelism?.() ?? cpus.length,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    node: process.version,
    v8: process.versions.v8,
    platform: `${os.platform()} ${os.arch()} ${os.release()}`,
    fastCheck: fastCheckVersion(),
  };
}
