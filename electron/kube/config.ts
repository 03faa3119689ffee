/**
 * Is a Kubernetes cluster configured for this user? The kubeconfig kubectl would use — KUBECONFIG,
 * else ~/.kube/config, else the in-cluster service account. Cheap (no API client loaded): the fleet
 * view asks it on every refresh to decide whether there is a cluster section at all.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** The kubeconfig the kubectl user has; refuses the API library's silent localhost:8080 fallback. */
export function kubeconfigSource(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.KUBECONFIG) return env.KUBECONFIG;
  const home = path.join(env.HOME ?? os.homedir(), '.kube', 'config');
  if (fs.existsSync(home)) return home;
  if (env.KUBERNETES_SERVICE_HOST && fs.existsSync('/var/run/secrets/kubernetes.io/serviceaccount/token')) return 'in-cluster service account';
  return undefined;
}
