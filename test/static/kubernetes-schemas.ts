// The Kubernetes API schemas (1.27, from the kubernetes-models package), offline: each object of the manifests is
// checked by the model of its apiVersion and kind. Like the API server's non-strict mode, the schemas reject wrong
// types, missing required fields and bad enum values, not unknown field names: the manifest test checks the fields
// that matter by name as well.
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Service } from 'kubernetes-models/v1/Service';

/** A parsed manifest object: enough to find its model. */
export interface KubernetesObject {
  apiVersion?: unknown;
  kind?: unknown;
  metadata?: { name?: unknown; namespace?: unknown };
}

type ModelClass = new (data: never) => { validate(): void };

const MODELS: Record<string, ModelClass> = {
  'v1/Namespace': Namespace,
  'v1/Service': Service,
  'v1/ConfigMap': ConfigMap,
  'apps/v1/Deployment': Deployment,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
};

/** The schema's complaints about one object, as lines; none when it validates. */
export function schemaErrors(object: KubernetesObject): string[] {
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const Model = MODELS[key];
  if (!Model) return [`${key}: no schema here for this apiVersion and kind (add its model to test/static/kubernetes-schemas.ts)`];
  try {
    new Model(object as never).validate();
    return [];
  } catch (error) {
    return (error instanceof Error ? error.message : String(error)).split('\n').filter((line) => line.trim() !== '');
  }
}
