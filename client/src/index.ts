// The client's front door: what the rest of the kit (the lab, the experiments, the bench) may use. The worker
// client (main.ts) and the load generator's CLI (load/main.ts) are programs; everything else here is internal.
export { callGreeter, createGreeterClient, statusName, type CallResult } from './greeter-call.js';
export { runLoad, type LoadProgress, type RunLoadHooks } from './load/load-run.js';
export type { SettledCall } from './load/load-loop.js';
export { LoadOptionsError, type LoadOptions } from './load/load-options.js';
export type { HostShare, KeyReport, LoadReport } from './load/load-report.js';
export type { LatencySummary } from './load/load-histogram.js';
