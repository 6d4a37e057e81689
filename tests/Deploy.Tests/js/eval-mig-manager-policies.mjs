// node eval-mig-manager-policies.mjs <rendered-with-mig-manager.yaml> <rendered-default.yaml>: the namespace's
// pod-hardening policy on the plugin pod with the MIG manager container (kubeletPlugin.migManager.enabled). The
// rendered pod passes; the exception is bounded to the chart's mig-manager container (name, image, command) and to
// SYS_ADMIN alone; anything more, or the same container under the default render's policy, is denied.
// Prints [{suite, name, expected, allowed, applied, failed}].
import {parseYamlDocuments} from './tools.mjs';
import {admit} from './vap.mjs';

const load = file => {
  const objects = parseYamlDocuments(file);
  return {
    hardening: objects.filter(o => o.kind === 'ValidatingAdmissionPolicy').find(p => p.metadata.name.endsWith('-pod-hardening')),
    daemonSet: objects.find(o => o.kind === 'DaemonSet'),
  };
};
const enabled = load(process.argv[2]);
const fallback = load(process.argv[3]);
const podOf = ds => ({apiVersion: 'v1', kind: 'Pod', metadata: {name: 'kubelet-plugin', namespace: ds.metadata.namespace}, spec: structuredClone(ds.spec.template.spec)});
const mutate = f => { const p = podOf(enabled.daemonSet); f(p.spec); return p; };
const plugin = s => s.containers.find(c => c.name === 'kubelet-plugin');
const manager = s => s.containers.find(c => c.name === 'mig-manager');
const results = [];
const cases = [
  ['the rendered plugin pod with its mig-manager container', 'allow', enabled.hardening, podOf(enabled.daemonSet)],
  ['the mig-manager container privileged', 'deny', enabled.hardening, mutate(s => { manager(s).securityContext.privileged = true; })],
  ['the mig-manager container with NET_ADMIN besides SYS_ADMIN', 'deny', enabled.hardening, mutate(s => { manager(s).securityContext.capabilities.add = ['SYS_ADMIN', 'NET_ADMIN']; })],
  ['the mig-manager container with SYS_PTRACE instead of SYS_ADMIN', 'deny', enabled.hardening, mutate(s => { manager(s).securityContext.capabilities.add = ['SYS_PTRACE']; })],
  ['the mig-manager container without drop ALL', 'deny', enabled.hardening, mutate(s => { delete manager(s).securityContext.capabilities.drop; })],
  ['the mig-manager container with a writable root filesystem', 'deny', enabled.hardening, mutate(s => { manager(s).securityContext.readOnlyRootFilesystem = false; })],
  ['the mig-manager container with hostPath /dev', 'deny', enabled.hardening, mutate(s => { s.volumes.push({name: 'dev', hostPath: {path: '/dev'}}); manager(s).volumeMounts.push({name: 'dev', mountPath: '/dev'}); })],
  ['another image named mig-manager with SYS_ADMIN', 'deny', enabled.hardening, mutate(s => { manager(s).image = 'attacker/tools:latest'; })],
  ['the product image running a shell as mig-manager', 'deny', enabled.hardening, mutate(s => { manager(s).args = ['sh', '-c', 'id']; })],
  ['the kubelet-plugin container with SYS_ADMIN', 'deny', enabled.hardening, mutate(s => { plugin(s).securityContext.capabilities.add = ['SYS_ADMIN']; })],
  ['the kubelet-plugin container with allowPrivilegeEscalation true', 'deny', enabled.hardening, mutate(s => { plugin(s).securityContext.allowPrivilegeEscalation = true; })],
  ['the kubelet-plugin container privileged', 'deny', enabled.hardening, mutate(s => { plugin(s).securityContext.privileged = true; })],
  ['a second container copying the manager under another name', 'deny', enabled.hardening, mutate(s => { s.containers.push({...structuredClone(manager(s)), name: 'helper'}); })],
  ['hostPID on the pod', 'deny', enabled.hardening, mutate(s => { s.hostPID = true; })],
  ['the mig-manager container under the default policy (exception off)', 'deny', fallback.hardening, podOf(enabled.daemonSet)],
];
for (const [name, expected, policy, pod] of cases) {
  const request = {operation: 'CREATE', namespace: pod.metadata.namespace, name: pod.metadata.name, userInfo: {username: 'system:serviceaccount:kube-system:daemon-set-controller'},
    resource: {group: '', version: 'v1', resource: 'pods'}};
  const r = admit(policy, {request, object: pod});
  results.push({suite: 'mig-manager-pod-hardening', name, expected, allowed: r.allowed, applied: r.applies ? [policy.metadata.name] : [], failed: r.failed.map(f => f.message)});
}
console.log(JSON.stringify(results));
