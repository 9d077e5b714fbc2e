// The Envoy configs of the orchestrators, each derived from envoy.yaml and committed beside the manifests that
// mount it, so a reader sees the very file that runs. `npm run derive:envoy` writes them; a static test checks that
// each committed file is today's derivation.
import { deriveKubernetesEnvoyConfig, deriveSwarmEnvoyConfig } from './config.js';

/** One committed, derived Envoy config: where it lives (relative to the repository root) and how it is made. */
export interface DeployEnvoyConfig {
  file: string;
  /** Who runs it, for messages. */
  orchestrator: string;
  derive: (baseYaml: string) => string;
}

export const DEPLOY_ENVOY_CONFIGS: readonly DeployEnvoyConfig[] = [
  { file: 'deploy/swarm/envoy.yaml', orchestrator: 'Docker Swarm', derive: (base) => deriveSwarmEnvoyConfig(base) },
  { file: 'deploy/kubernetes/envoy.yaml', orchestrator: 'Kubernetes', derive: deriveKubernetesEnvoyConfig },
];
