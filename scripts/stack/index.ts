// The local stack's front door: the Docker-free system (`npm start`) as a library, the API a running one is driven
// through, the file that says where it runs, and the small process and waiting tools the rest of the kit shares.
export { DISCOVERIES, LocalStack, MAX_REPLICAS, type Discovery, type LocalReplica, type LocalStackOptions } from './local-stack.js';
export { StackControlApi, type ReplicaInfo, type StackInfo } from './control-api.js';
export { isLocalStackChild, readStaleStateFile, readStateFile, removeStateFile, StateFileError, stateFilePath, writeStateFile, type StackStateFile } from './state-file.js';
export { ManagedProcess, type ExitStatus, type LineHandler } from './managed-process.js';
export { PollAborted, pollUntil } from './poll-until.js';
export { freePort } from './free-port.js';
export { DnsResponder } from './dns-responder.js';
export { layOutLocalPrometheus, LocalPrometheus, type ScrapedReplica, type ScrapeTargets } from './local-prometheus.js';
