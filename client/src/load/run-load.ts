/**
 * Kept only so test/compose/compose-system.test.ts and test/integration/policy-switch.test.ts, which import runLoad
 * from this old path, keep compiling; runLoad lives in load-run.ts. Delete this file once they import from
 * client/src/index.js, as the rest of the repo does.
 */
export { runLoad, type LoadProgress, type RunLoadHooks } from './load-run.js';
