import base from './stryker.config.mjs';
export default { ...base, vitest: { ...base.vitest, configFile: 'vitest.mutation.exp.config.ts' }, jsonReporter: { fileName: 'reports/mutation-exp/mutation.json' }, htmlReporter: { fileName: 'reports/mutation-exp/index.html' } };
