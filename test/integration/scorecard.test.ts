// The balancer scorecard, quick variant, on a real background local system: the contenders as local processes
// (Debian's nginx and HAProxy, the pinned Envoy at L7 and L4) and grpc-js balancing on its own, over the same
// replica processes.
import { useLabSystem } from '../helpers/lab-system-fixture.js';
import { testScorecard } from '../helpers/scorecard-run.js';

const system = useLabSystem(3);
testScorecard(() => system.driver, 6 * 60_000);
