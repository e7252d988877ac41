// The only test file of `npm run mutation:properties` (vitest.properties-only.config.ts): what
// the properties alone catch. The whole catalog, corrupt images included, on every kernel
// revision, at the quick budget with seed 42 (test/mutation/catalog.ts); no unit, scenario or
// property-layer suite, so a mutant survives unless a property run fails.
import { PROPERTIES } from '../../properties/catalog.ts';
import { REVISIONS } from '../../properties/revisions/index.ts';
import { catalogSuite } from './catalog.ts';

// Every property of the catalog, cheapest first (uninstrumented, summed over the revisions).
const ORDER = ['concurrency', 'firmware-faults', 'td-preservation', 'corrupt-images', 'update-contract'];
if (ORDER.length !== PROPERTIES.length || PROPERTIES.some((p) => !ORDER.includes(p.id))) {
  throw new Error(`ORDER must name each property of the catalog once: ${PROPERTIES.map((p) => p.id).join(', ')}`);
}
catalogSuite(REVISIONS, ORDER);
