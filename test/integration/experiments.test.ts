// Every lab experiment, quick variant, on a real background local system (replica processes, a real Envoy): the
// one harness that stages the faults (scale, NOT_SERVING, SIGKILL, SIGTERM, SIGSTOP, failing calls, latency, policy
// switches) and judges Envoy's behaviour against stated bounds.
import { useLabSystem } from '../helpers/lab-system-fixture.js';
import { testEveryExperiment } from '../helpers/experiment-run.js';

const system = useLabSystem(3);
testEveryExperiment(() => system.driver);
