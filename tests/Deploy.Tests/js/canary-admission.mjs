// node canary-admission.mjs <rendered.yaml>: the canary CronJob's pod and its ResourceClaimTemplate, as the
// API server would receive them in the release namespace, against every rendered ValidatingAdmissionPolicy
// whose matchConstraints and binding select them (vap.mjs emulation). Prints [{object, policy, applies, allowed, failed}].
import {parseYamlDocuments} from './tools.mjs';
import {admit, matches} from './vap.mjs';
import {selects} from './tenant-pods.mjs';

const objects = parseYamlDocuments(process.argv[2]);
const policies = objects.filter(o => o.kind === 'ValidatingAdmissionPolicy');
const bindings = objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding');
const cron = objects.find(o => o.kind === 'CronJob');
const template = objects.find(o => o.kind === 'ResourceClaimTemplate');
const ns = cron.metadata.namespace;
const namespaceObject = {apiVersion: 'v1', kind: 'Namespace', metadata: {name: ns, labels: {'kubernetes.io/metadata.name': ns}}};
const pod = {
  apiVersion: 'v1', kind: 'Pod',
  metadata: {name: `${cron.metadata.name}-29000000-abcde`, namespace: ns, labels: cron.spec.jobTemplate.spec.template.metadata.labels},
  spec: structuredClone(cron.spec.jobTemplate.spec.template.spec),
};
const version = template.apiVersion.split('/')[1];
const cases = [
  ['canary pod', pod, {group: '', version: 'v1', resource: 'pods'}, `system:serviceaccount:kube-system:job-controller`],
  ['canary claim template', template, {group: 'resource.k8s.io', version, resource: 'resourceclaimtemplates'}, 'helm'],
];
const results = [];
for (const [name, object, resource, username] of cases) {
  const request = {operation: 'CREATE', namespace: ns, name: object.metadata.name, userInfo: {username, groups: ['system:authenticated'], extra: {}}, resource};
  for (const policy of policies) {
    if (!matches(policy, request, [version, 'v1'])) continue;
    // A policy is enforced in this namespace only through a binding that selects it (the tenant pod policy's does not select the release namespace).
    if (!bindings.some(b => b.spec.policyName === policy.metadata.name && selects(b, namespaceObject))) continue;
    const r = admit(policy, {request, object, namespaceObject});
    results.push({object: name, policy: policy.metadata.name, applies: r.applies, allowed: r.allowed, failed: r.failed.map(f => f.message)});
  }
}
process.stdout.write(JSON.stringify(results));
