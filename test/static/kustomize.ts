// kustomize, to render deploy/kubernetes/ exactly as `kubectl apply -k` would: a kustomize binary, kubectl's
// built-in one (`kubectl kustomize`), or the one .ci/run builds into .tools/bin when neither is on PATH. None at all
// is a failed test with the way to get one, never a skip.
import path from 'node:path';
import { findOnPath, isExecutable } from '../../scripts/cli/executables.js';
import { projectRoot } from '../../scripts/envoy/paths.js';

/** The command that renders a kustomization folder given as its last argument. */
export interface Kustomize {
  command: string;
  args: string[];
}


export function findKustomize(): Kustomize {
  const kustomize = findOnPath('kustomize');
  if (kustomize) return { command: kustomize, args: ['build'] };
  const kubectl = findOnPath('kubectl');
  if (kubectl) return { command: kubectl, args: ['kustomize'] };
  const local = path.join(projectRoot, '.tools', 'bin', 'kustomize');
  if (isExecutable(local)) return { command: local, args: ['build'] };
  throw new Error(
    'no kustomize: install kubectl (it has kustomize built in) or kustomize, or build it as .ci/run does: ' +
      'GOBIN=$PWD/.tools/bin go install sigs.k8s.io/kustomize/kustomize/v5@v5.5.0',
  );
}
