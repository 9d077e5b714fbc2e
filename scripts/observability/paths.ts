import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root (this file lives in scripts/observability/). */
const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The top-level folder of every Prometheus and Grafana file the project ships. */
export const observabilityDir = path.join(projectRoot, 'observability');

/** Prometheus's config for the Docker-free system: file-based target lists beside it. */
export const localPrometheusConfigPath = path.join(observabilityDir, 'prometheus', 'local.yml');

/** Prometheus's config under Compose: DNS discovery of grpc-server, Envoy's stats listener. */
export const composePrometheusConfigPath = path.join(observabilityDir, 'prometheus', 'compose.yml');

/** The alert rules both configs load (as alerts.yml beside the config). */
export const alertRulesPath = path.join(observabilityDir, 'prometheus', 'alerts.yml');

/** The Dockerfile of the Prometheus stand-in image (`npm run setup:observability`). */
export const prometheusStandinDockerfile = path.join(observabilityDir, 'standin', 'prometheus.Dockerfile');

/** The Compose file, whose prometheus service names the image tag the stand-in takes. */
export const composeFilePath = path.join(projectRoot, 'docker-compose.yml');
