// Observability's front door: everything the kit knows about Prometheus. Finding its binary (and promtool), the
// configs and rules under observability/, the file-based target lists a local system writes, and the stand-in
// image the Compose profile `observability` runs where no registry can be reached.
export { INSTALL_HINT, PrometheusNotAvailableError, requirePrometheus, type PrometheusBinary } from './binary.js';
export {
  alertRulesPath,
  composeFilePath,
  composePrometheusConfigPath,
  localPrometheusConfigPath,
  observabilityDir,
  prometheusStandinDockerfile,
} from './paths.js';
export { writeTargetFile, type ScrapeTargetGroup } from './targets.js';
export { composePrometheusImage, ensurePrometheusStandin, imageExists, StandinError } from './standin.js';
