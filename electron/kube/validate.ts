/**
 * Validation of Kubernetes manifests against the Kubernetes API schema, with the validators
 * kubernetes-models ships (generated from the API's OpenAPI schema). Loaded only by the commands
 * that write or send manifests (`archway export kubernetes`, `archway kube apply|delete`), never on
 * the start-up path of status or install.
 */
import { ArchwayError } from '../../shared/helper-protocol';

type Validatable = { validate(): void };
type ModelClass = new (data: never) => Validatable;

/** The kinds Archway writes, each loaded on first use. */
const MODELS: Readonly<Record<string, () => Promise<ModelClass>>> = {
  'v1/Namespace': async () => (await import('kubernetes-models/v1/Namespace')).Namespace as unknown as ModelClass,
  'v1/ServiceAccount': async () => (await import('kubernetes-models/v1/ServiceAccount')).ServiceAccount as unknown as ModelClass,
  'apps/v1/DaemonSet': async () => (await import('kubernetes-models/apps/v1/DaemonSet')).DaemonSet as unknown as ModelClass,
};

/** Throws ArchwayError('invalid-rule') naming the document and what the schema says is wrong. */
export async function validateManifests(docs: readonly Record<string, unknown>[]): Promise<void> {
  for (const [i, doc] of docs.entries()) {
    const what = `document ${i + 1} (${String(doc.kind ?? '?')} ${String((doc.metadata as { name?: unknown } | undefined)?.name ?? '')})`.trim();
    const load = MODELS[`${String(doc.apiVersion)}/${String(doc.kind)}`];
    if (!load) throw new ArchwayError('invalid-rule', `${what}: ${String(doc.apiVersion)} ${String(doc.kind)} is not a kind Archway writes`);
    const Model = await load();
    try {
      new Model(doc as never).validate();
    } catch (err) {
      throw new ArchwayError('invalid-rule', `${what} does not validate against the Kubernetes API schema: ${(err as Error).message}`, 'This is a bug in Archway\'s manifests: please report it with the command you ran.');
    }
  }
}
