// Once before all test files: the browser bundles the pages load, so a lone `vitest run` of a
// browser test works as well as `npm test`.
import { buildClient } from '../client/build.js';

export default async function setup(): Promise<void> {
  await buildClient();
}
