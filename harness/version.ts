// The tool's name and version (package.json), recorded in corpus entries and reports.
import { readFileSync } from 'node:fs';

export const TOOL = 'tdx-update-verify';
export const TOOL_VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;
