// Vitest's global setup: every temporary directory a test makes (os.tmpdir(), in the workers and
// in the CLI children they start) goes under one root, removed when the run ends, so repeated
// runs leave nothing behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const root = mkdtempSync(join(tmpdir(), 'tdx-update-verify-test-'));
  process.env.TMPDIR = root;
  return () => rmSync(root, { recursive: true, force: true });
}
