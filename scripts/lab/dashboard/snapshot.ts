// What the dashboard's HTTP API answers, shared by the server (Node) and the page (the browser): types only, so the
// page's compiled script carries none of this file.

/** One replica as the page shows it, measured over the last second (share, rates) or the latency window. */
export interface ReplicaView {
  name: string;
  /** The driver's state, or "gone" for a replica the driver no longer lists (killed under the local driver). */
  state: 'running' | 'paused' | 'exited' | 'gone';
  /** Envoy's health flags (healthy, failed_active_hc, failed_outlier_check, ...), or "not in Envoy". */
  envoy: string;
  /** Share of the calls Envoy sent in the last second, 0-1. */
  share: number;
  callsPerSecond: number;
  errorsPerSecond: number;
  /** p50 and p99 of the dashboard's own probe calls this replica answered in the window, ms. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** The faults in force, as the replica last reported them (read every few seconds); null when not known. */
  faults: { health: string; failRate: number; failCode: string; latencyMs: number } | null;
}

/** An experiment started from the page, and the phases it has gone through. */
export interface ExperimentView {
  name: string;
  status: 'running' | 'passed' | 'failed' | 'error';
  /** Every line the experiment logged (its steps), with the time since it started. */
  lines: { atS: number; text: string }[];
  /** The report's figures, once it has finished. */
  figures: string[];
}

/** GET /api/state: everything the page draws, once a second. */
export interface DashboardSnapshot {
  /** Epoch ms of the sample. */
  at: number;
  driver: 'docker' | 'local';
  system: string;
  policy: string;
  probeRate: number;
  probeFailed: number;
  /** The sliding window p50 and p99 are taken over, in seconds. */
  latencyWindowS: number;
  retriesPerSecond: number;
  replicas: ReplicaView[];
  /** The verb being carried out now, if any (one at a time). */
  busy: string | null;
  /** The last message of a verb: what it did, or why it failed. */
  message: { text: string; error: boolean } | null;
  experiment: ExperimentView | null;
}

/** GET /api/meta: what does not change while the dashboard runs. */
export interface DashboardMeta {
  experiments: { name: string; title: string }[];
  policies: string[];
  failCodes: string[];
  /** How many samples (one a second) the charts keep. */
  historyLength: number;
}

/** POST /api/action: one lab verb. */
export interface ActionRequest {
  verb: 'scale' | 'kill' | 'stop' | 'pause' | 'resume' | 'health' | 'fail' | 'latency' | 'reset' | 'policy';
  replica?: string;
  /** The verb's argument as typed: a count, a rate, milliseconds, serving|not-serving, or a policy name. */
  value?: string;
  /** For fail: the gRPC status of the failures. */
  code?: string;
}
