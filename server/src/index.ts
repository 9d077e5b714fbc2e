// The server's front door: what the rest of the kit (the local stack, the lab drivers) may use to reach a replica's
// control API and speak its fault vocabulary. The replica itself (main.ts) and greeterctl are programs.
export { ControlClient, ControlRequestError } from './control-client.js';
export { controlRequestRefusal, newControlToken } from './control-access.js';
export {
  FAIL_CODE_NAMES,
  FaultPatchError,
  parseFaultPatch,
  type FaultPatch,
  type FaultSettings,
  type FaultStateView,
  type HealthStatus,
} from './fault-state.js';
export { parseCodeArg, parseHealthArg, parseLatencyArg, parseRateArg, UsageError } from './control-cli-args.js';
export { ReplicaMetrics, type MethodMetrics } from './metrics.js';
