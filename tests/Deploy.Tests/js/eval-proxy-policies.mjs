// node eval-proxy-policies.mjs <rendered-proxy.yaml>: the chart rendered with mode=proxy. Evaluates the
// devicetaintrules policy (the proxy's service account keeps to NoSchedule rules selecting one device of its own
// node and driver) in every version that serves DeviceTaintRule, and the pod-hardening policy on the proxy's pod.
// Prints [{suite, name, expected, allowed, applied, failed}].
import {parseYamlDocuments} from './tools.mjs';
import {admit, matches} from './vap.mjs';

const objects = parseYamlDocuments(process.argv[2]);
const policies = objects.filter(o => o.kind === 'ValidatingAdmissionPolicy');
const bindings = objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding');
const daemonSet = objects.find(o => o.kind === 'DaemonSet');
const driver = daemonSet.spec.template.spec.containers[0].args.find(a => a.startsWith('--vendor-driver-name=')).split('=')[1];
const proxyUser = `system:serviceaccount:${daemonSet.metadata.namespace}:${daemonSet.spec.template.spec.serviceAccountName}`;
const bound = p => bindings.some(b => b.spec.policyName === p.metadata.name && b.spec.validationActions.includes('Deny'));
const results = [];

// Kubernetes releases and the version that carries devicetaintrules there (when enabled).
const SERVED = {'1.33': ['v1alpha3'], '1.34': ['v1alpha3'], '1.35': ['v1alpha3'], '1.36': ['v1beta2']};
const proxy = node => ({username: proxyUser, groups: ['system:serviceaccounts'],
  extra: node === undefined ? {} : {'authentication.kubernetes.io/node-name': node === null ? [] : [node]}});
const admin = {username: 'kubernetes-admin', groups: ['system:masters'], extra: {}};
const rule = (version, selector, effect = 'NoSchedule') => ({apiVersion: `resource.k8s.io/${version}`, kind: 'DeviceTaintRule',
  metadata: {name: 'securedra-node-a-gpu-0-0123456789abcdef'},
  spec: {deviceSelector: selector, taint: {key: 'securedra.io/scrub-failed', effect}}});
const own = {driver, pool: 'node-a', device: 'gpu-0'};
const cases = [
  ['proxy withdraws one device of its own node', 'allow', 'CREATE', proxy('node-a'), own, null],
  ['proxy withdraws a device of another node', 'deny', 'CREATE', proxy('node-a'), {...own, pool: 'node-b'}, null],
  ['proxy withdraws a device of another driver', 'deny', 'CREATE', proxy('node-a'), {...own, driver: 'gpu.example.com'}, null],
  ['proxy withdraws its whole pool (no device)', 'deny', 'CREATE', proxy('node-a'), {driver, pool: 'node-a'}, null],
  ['proxy withdraws a device name on every node (no pool)', 'deny', 'CREATE', proxy('node-a'), {driver, device: 'gpu-0'}, null],
  ['proxy withdraws every device of the driver (no pool, no device)', 'deny', 'CREATE', proxy('node-a'), {driver}, null],
  ['proxy widens its rule with a DeviceClass (1.33-1.34 field)', 'deny', 'CREATE', proxy('node-a'), {...own, deviceClassName: 'gpu'}, null],
  ['proxy widens its rule with CEL selectors (1.33-1.34 field)', 'deny', 'CREATE', proxy('node-a'), {...own, selectors: [{cel: {expression: 'true'}}]}, null],
  ['proxy evicts running pods (NoExecute)', 'deny', 'CREATE', proxy('node-a'), own, null, 'NoExecute'],
  ['proxy token without the node-name extra', 'deny', 'CREATE', proxy(undefined), own, null],
  ['proxy token with an empty node-name extra', 'deny', 'CREATE', proxy(null), {...own, pool: ''}, null],
  ['proxy rewrites its own rule', 'allow', 'UPDATE', proxy('node-a'), own, own],
  ['proxy moves another node\'s rule to itself', 'deny', 'UPDATE', proxy('node-a'), own, {...own, pool: 'node-b'}],
  ['proxy deletes its own rule', 'allow', 'DELETE', proxy('node-a'), null, own],
  ['proxy deletes another node\'s rule', 'deny', 'DELETE', proxy('node-a'), null, {...own, pool: 'node-b'}],
  ['proxy deletes an admin\'s cluster-wide rule', 'deny', 'DELETE', proxy('node-a'), null, {driver}],
  ['a cluster admin is not restricted by this policy', 'allow', 'CREATE', admin, {driver}, null, 'NoExecute', true],
];
const taintPolicies = policies.filter(p => bound(p) && p.spec.matchConstraints.resourceRules.some(r => r.resources.includes('devicetaintrules')));
for (const [k8s, served] of Object.entries(SERVED)) {
  for (const version of served) {
    for (const [name, expected, operation, userInfo, selector, oldSelector, effect, notApplied] of cases) {
      const request = {operation, name: 'r', namespace: '', userInfo, resource: {group: 'resource.k8s.io', version, resource: 'devicetaintrules'}};
      const applied = [];
      const failed = [];
      for (const p of taintPolicies.filter(p => matches(p, request, served))) {
        const r = admit(p, {request, object: selector ? rule(version, selector, effect) : null, oldObject: oldSelector ? rule(version, oldSelector) : null});
        if (r.applies) applied.push(p.metadata.name);
        failed.push(...r.failed.map(f => `${p.metadata.name}: ${f.message}`));
      }
      results.push({suite: `devicetaintrules/${k8s}/${version}`, name, expected, notApplied: !!notApplied, allowed: failed.length === 0, applied, failed});
    }
  }
}

// The proxy's own pod passes the namespace's pod-hardening policy; the plugin-mode CDI dir does not.
const hardening = policies.find(p => p.metadata.name.endsWith('-pod-hardening'));
const pod = mutate => { const p = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'proxy', namespace: daemonSet.metadata.namespace}, spec: structuredClone(daemonSet.spec.template.spec)}; mutate(p.spec); return p; };
for (const [name, expected, object] of [
  ['the rendered proxy pod', 'allow', pod(() => {})],
  ['the proxy pod with the CDI dir (the proxy writes no CDI specs)', 'deny', pod(s => s.volumes.push({name: 'cdi', hostPath: {path: '/var/run/cdi'}}))],
  ['the proxy pod with the whole kubelet plugins dir', 'deny', pod(s => s.volumes.push({name: 'all', hostPath: {path: '/var/lib/kubelet/plugins'}}))],
]) {
  const request = {operation: 'CREATE', namespace: object.metadata.namespace, name: 'proxy', userInfo: {username: 'system:serviceaccount:kube-system:daemon-set-controller'}, resource: {group: '', version: 'v1', resource: 'pods'}};
  const r = admit(hardening, {request, object});
  results.push({suite: 'proxy-pod-hardening', name, expected, allowed: r.allowed, applied: r.applies ? [hardening.metadata.name] : [], failed: r.failed.map(f => f.message)});
}

console.log(JSON.stringify(results));
