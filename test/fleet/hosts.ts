// Moved to test/support/fleet-hosts.ts (shared with the Machines view's Chromium test). This
// re-export keeps files written against the old path (test/kube/cluster.test.ts on the kubefleet
// branch) compiling; import from '../support/fleet-hosts' instead.
export * from '../support/fleet-hosts';
