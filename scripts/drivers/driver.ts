// The one contract both lab drivers keep: the same verbs, the same answers, whether the replicas are Compose
// containers (docker driver) or local processes (local driver). The CLI, the live view and the experiments
// talk only to this interface.
import type { PolicyChoice } from '../envoy/index.js';
import type { Discovery } from '../stack/index.js';
import { type FaultPatch, type FaultStateView } from '../../server/src/index.js';

/** One replica as the driver sees it (Envoy's view is read separately from the admin API). */
export interface LabReplica {
  /**
   * The name it answers calls with, which the client logs: the Compose container name (<project>-grpc-server-2,
   * as `docker compose ps` shows it), or grpc-server-2 for a local process. Verbs also take the short form.
   */
  name: string;
  /** IPv4 address the replica listens on ('' once a container has exited). */
  address: string;
  /** Its gRPC port: with the address, the host Envoy's /clusters lists for it. */
  port: number;
  state: 'running' | 'paused' | 'exited';
}

/** Host ports for `up`; each left out keeps its default (5000, 9901, 8080). */
/** Envoy's process: serving, or being started again after it died, and how many times that happened. */
export interface EnvoyProcess {
  /** running, restarting (it died; the supervisor starts it again), or what the Docker engine says. */
  state: string;
  restarts: number;
}

export interface UpPorts {
  proxy?: number;
  admin?: number;
  /** The port every local replica binds on its own 127.0.0.N address; Compose replicas each have their own address. */
  server?: number;
}

/** What the control plane has cost so far (ControlPlaneStatus's counters). */
export interface XdsCost {
  responses: number;
  pushes: number;
  nacks: number;
  /** CPU of the process hosting it. */
  cpuMs: number;
  /** Its own busy time: handling requests, rendering and encoding pushes. */
  busyMs: number;
}

/** A mistake the user can fix (unknown replica, driver not available): printed as one line, exit code 2 or 1. */
export class LabError extends Error {
  override name = 'LabError';
  constructor(
    message: string,
    /** 2 for a usage mistake, 1 for a system that is not in a state to do it. */
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message);
  }
}

/** What every driver can do. Every method either does the whole thing or throws LabError, never half. */
export interface LabDriver {
  readonly kind: 'docker' | 'local';
  /** Which system this driver acts on, in a few words: "Compose project grpc-envoy-lab", "local system (pid 123)". */
  describe(): Promise<string>;
  /**
   * Brings the system up with `replicas` greeter replicas (scales one that already runs); `ports` move Envoy's
   * listener and admin on the host, and (local processes only) the replicas' port.
   */
  up(replicas: number, ports?: UpPorts): Promise<void>;
  /** Stops and removes everything the lab started; resolves to one line saying what that was. */
  down(): Promise<string>;
  /**
   * Sets the number of greeter replicas; resolves once Envoy sees exactly that many hosts and every new one healthy
   * (an old one a user made NOT_SERVING does not hold it up).
   */
  scale(replicas: number): Promise<void>;
  /** The replicas, sorted by number. */
  replicas(): Promise<LabReplica[]>;
  /** SIGKILL one replica. */
  kill(name: string): Promise<void>;
  /** SIGTERM one replica and wait until it has exited (graceful drain). */
  stop(name: string): Promise<void>;
  /** Freeze one replica (SIGSTOP / docker pause): connections stay open, nothing answers. */
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  /** When the replica printed its start-up line (listening): epoch ms, or undefined when it cannot be told. */
  readyAt(name: string): Promise<number | undefined>;
  /** Changes one replica's health, injected failures or latency through its control API. */
  setFaults(name: string, patch: FaultPatch): Promise<FaultStateView>;
  /**
   * Switches Envoy's load-balancing policy: a config derived from envoy.yaml, taken over by Envoy's hot restart
   * (no call lost). Resolves once the new Envoy is live, has checked the replicas again and the old one is gone.
   */
  setPolicy(choice: PolicyChoice): Promise<void>;
  /**
   * Restarts every replica with `env` added to its environment ({} = as configured: docker-compose.yml, or the
   * server's defaults), e.g. MAX_CONNECTION_AGE_MS for the scorecard; replicas a later scale adds get it too where the
   * driver can (local). Resolves once Envoy sees every replica healthy again.
   */
  setReplicaEnv(env: Record<string, string>): Promise<void>;
  /** The policy Envoy currently runs, read from its own /config_dump. */
  policy(): Promise<PolicyChoice>;
  /** How Envoy discovers the replicas now: dns (STRICT_DNS polling, envoy.yaml as is) or xds (EDS pushed). */
  discovery(): Promise<Discovery>;
  /**
   * Switches Envoy's discovery by a hot restart onto the config derived for it (no call lost); `xds` also makes sure
   * a control plane runs, fed by the platform (the local stack's events, or Docker's). Resolves once Envoy sees
   * every replica healthy again.
   */
  setDiscovery(discovery: Discovery): Promise<void>;
  /**
   * The xDS bootstrap (JSON) a proxyless client on this machine uses to dial xds:///grpc-server through the same
   * control plane, naming itself `nodeId`; starts the control plane if none runs.
   */
  xdsBootstrap(nodeId: string): Promise<string>;
  /** The control plane's own counters (responses, pushes, NACKs, CPU ms), for the discovery experiment's cost figures. */
  xdsCost(): Promise<XdsCost>;
  /** Envoy's process as its supervisor sees it (the local stack, or the Docker engine): `lab ps` shows it first. */
  envoyProcess(): Promise<EnvoyProcess>;
  /** http://127.0.0.1:<port> of Envoy's admin. */
  adminUrl(): Promise<string>;
  /** host:port of Envoy's gRPC listener. */
  envoyTarget(): Promise<string>;
}
