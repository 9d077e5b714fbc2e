// How `npm start` grows with its replicas: for each count, the time until Envoy sees every replica healthy, and the
// memory every process holds once idle. One start per count, stopped before the next.
import { rssMbOf } from './proc-usage.js';
import { SystemUnderTest } from './system-under-test.js';

/** One count of replicas: its start time and the RSS of its processes, idle. */
export interface ScaleStep {
  replicas: number;
  /** npm start's launch until its state file says ready (Envoy sees all of them healthy), ms. */
  readyMs: number;
  /** RSS, MB: all replicas together, the largest one, Envoy, npm start. */
  replicasMb: number;
  largestReplicaMb: number;
  envoyMb: number;
  supervisorMb: number;
}

export async function measureScale(counts: number[], extraArgs: string[], say: (line: string) => void): Promise<ScaleStep[]> {
  const steps: ScaleStep[] = [];
  for (const replicas of counts) {
    const sut = await SystemUnderTest.start(replicas, extraArgs);
    try {
      // Settled: the memory of a replica that has just started and served nothing yet still moves for a moment.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const rss = (role: string): number[] => sut.processes.filter((p) => p.role === role).map((p) => rssMbOf(p.pid) ?? 0);
      const replicaRss = rss('replica');
      const step: ScaleStep = {
        replicas,
        readyMs: sut.startMs,
        replicasMb: replicaRss.reduce((sum, mb) => sum + mb, 0),
        largestReplicaMb: Math.max(...replicaRss),
        envoyMb: rss('envoy').reduce((sum, mb) => sum + mb, 0),
        supervisorMb: rss('supervisor').reduce((sum, mb) => sum + mb, 0),
      };
      steps.push(step);
      say(`scale ${replicas}: ready in ${(step.readyMs / 1000).toFixed(1)} s, replicas ${Math.round(step.replicasMb)} MB (largest ${Math.round(step.largestReplicaMb)} MB), Envoy ${Math.round(step.envoyMb)} MB, npm start ${Math.round(step.supervisorMb)} MB`);
    } finally {
      await sut.stop();
    }
  }
  return steps;
}
