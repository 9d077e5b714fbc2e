// Envoy's front door: everything the kit knows about Envoy, in one place. Finding or installing the pinned binary,
// reading its admin API, and deriving configs from the one hand-written envoy.yaml (for local processes, for each
// load-balancing policy the lab switches to, and for Swarm and Kubernetes).
export {
  clusterHosts,
  clusterStat,
  isReady,
  listenerPort,
  runningStaticResources,
  serverInfo,
  stats,
  type ServerInfo,
  type UpstreamHost,
} from './admin.js';
export { EnvoyNotAvailableError, findEnvoy, requireEnvoy, type EnvoyBinary } from './binary.js';
export {
  ACCESS_LOG_OK_PERCENT_KEY,
  ADMIN_CLUSTER,
  ADMIN_READONLY_LISTENER,
  CLUSTER_NAME,
  deriveL4EnvoyConfig,
  deriveKubernetesEnvoyConfig,
  deriveLocalEnvoyConfig,
  deriveSwarmEnvoyConfig,
  EnvoyConfigShapeError,
  L4_STAT_PREFIX,
  KUBERNETES_ADMIN_ADDRESS,
  LISTENER_NAME,
  serviceNameOf,
  SWARM_ADMIN_SOCKET,
  type LocalEnvoyOverrides,
  type SwarmEnvoyOptions,
} from './config.js';
export { DEPLOY_ENVOY_CONFIGS, type DeployEnvoyConfig } from './deploy-configs.js';
export { envoyYamlPath, hotRestartScriptPath, pinnedEnvoyVersion, projectRoot } from './paths.js';
export {
  DEFAULT_HASH_HEADER,
  derivePolicyConfig,
  ENVOY_YAML_PER_TRY_TIMEOUT_MS,
  LB_POLICIES,
  normalizePolicyChoice,
  policyOf,
  PolicyChoiceError,
  runningPolicy,
  type LbPolicy,
  type PolicyChoice,
} from './policy.js';
export { deriveXdsEnvoyConfig, servedXdsConfig, XDS_CLUSTER, type XdsEnvoyOverrides } from './xds-config.js';
