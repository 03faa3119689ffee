/**
 * `archway export kubernetes`: plan (shared/kube/manifests.ts), build the typed manifests, validate
 * every document against the Kubernetes API schema, and only then return the YAML.
 */
import { kubernetesManifests, planKubernetes, type KubeExportRequest, type KubeMode, type KubePlan } from '../../shared/kube/manifests';
import { yamlDocuments, type YamlDocument } from '../../shared/kube/yaml';
import { validateManifests } from './validate';

export interface KubeExport {
  plan: KubePlan;
  documents: YamlDocument[];
  yaml: string;
}

export async function exportKubernetes(req: KubeExportRequest, mode: KubeMode = 'install'): Promise<KubeExport> {
  const plan = planKubernetes(req);
  const documents = kubernetesManifests(plan, mode);
  await validateManifests(documents.map((d) => d.value as Record<string, unknown>));
  return { plan, documents, yaml: yamlDocuments(documents) };
}
