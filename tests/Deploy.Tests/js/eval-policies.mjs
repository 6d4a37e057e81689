// node eval-policies.mjs <rendered.yaml>: evaluates the CEL of the RENDERED admission policies
// (and the webhook's matchConditions) against the corpus in corpus.mjs, emulating how the API
// server picks policies per request version (matchPolicy Exact / Equivalent) for Kubernetes
// 1.32, 1.33 and 1.34+. Prints [{suite, name, expected, allowed, applied, failed}].
import {parseYamlDocuments} from './tools.mjs';
import {admit, matches, env} from './vap.mjs';
import {claimCases, sliceCases, toVersion, SERVED} from './corpus.mjs';
import {toCel} from './tools.mjs';
import {evalTenantPods} from './tenant-pods.mjs';

const objects = parseYamlDocuments(process.argv[2]);
const policies = objects.filter(o => o.kind === 'ValidatingAdmissionPolicy');
const bindings = objects.filter(o => o.kind === 'ValidatingAdmissionPolicyBinding');
const daemonSet = objects.find(o => o.kind === 'DaemonSet');
const deviceClasses = objects.filter(o => o.kind === 'DeviceClass');
const webhook = objects.find(o => o.kind === 'ValidatingWebhookConfiguration');
const driver = deviceClasses[0].spec.config[0].opaque.driver;
const approved = deviceClasses.map(c => c.metadata.name);
// The identity the plugin really runs as, taken from the rendered DaemonSet (NVIDIA #1317).
const pluginUser = `system:serviceaccount:${daemonSet.metadata.namespace}:${daemonSet.spec.template.spec.serviceAccountName}`;

const bound = p => bindings.some(b => b.spec.policyName === p.metadata.name && b.spec.validationActions.includes('Deny'));
const excluded = ns => bindings.every(b => {
  const exprs = b.spec.matchResources?.namespaceSelector?.matchExpressions ?? [];
  return exprs.some(e => e.key === 'kubernetes.io/metadata.name' && e.operator === 'NotIn' && e.values.includes(ns));
});

const results = [];

// Claims and templates: every case, in every served request version of every Kubernetes version.
for (const c of claimCases({driver, approved})) {
  for (const [k8s, served] of Object.entries(SERVED)) {
    for (const version of served) {
      if (c.versions && !c.versions.includes(version)) continue;
      const request = {
        operation: c.operation ?? 'CREATE',
        namespace: c.namespace.metadata.name,
        name: c.object.metadata.name,
        userInfo: c.userInfo ?? {username: 'alice', groups: ['tenant-a-developers', 'system:authenticated'], extra: {}},
        resource: {group: 'resource.k8s.io', version, resource: c.object.kind === 'ResourceClaimTemplate' ? 'resourceclaimtemplates' : 'resourceclaims'},
      };
      const applied = [];
      const failed = [];
      for (const p of policies.filter(p => bound(p) && matches(p, request, served))) {
        if (excluded(request.namespace)) continue;
        // The object arrives in the version the policy names (converted under Equivalent).
        const rule = p.spec.matchConstraints.resourceRules[0];
        const seen = rule.apiVersions.includes(version) ? version : rule.apiVersions.find(v => served.includes(v));
        const r = admit(p, {
          request: {...request, resource: {...request.resource, version: seen}},
          object: toVersion(c.object, seen),
          oldObject: c.oldObject ? toVersion(c.oldObject, seen) : null,
          namespaceObject: c.namespace,
        });
        if (r.applies) applied.push(`${p.metadata.name}@${seen}`);
        failed.push(...r.failed.map(f => `${p.metadata.name}: ${f.message}`));
      }
      results.push({suite: `claims/${k8s}/${version}`, name: c.name, expected: c.expected, notApplied: !!c.notApplied, allowed: failed.length === 0, applied, failed});
    }
  }
}

// Each claim policy alone, in the shape of the version it names: every policy must be right by
// itself (on 1.32 only the v1beta1 one exists for the API server to apply). The claim-spec policies
// are the ones that also guard templates; the delete-protection policy is judged in the bundle above.
for (const p of policies.filter(p => p.spec.matchConstraints.resourceRules.some(r => r.resources.includes('resourceclaimtemplates')))) {
  const version = p.spec.matchConstraints.resourceRules[0].apiVersions[0];
  for (const c of claimCases({driver, approved}).filter(c => !c.name.startsWith('finalizer: '))) {
    if (c.versions && !c.versions.includes(version)) continue;
    const request = {
      operation: c.operation ?? 'CREATE', namespace: c.namespace.metadata.name, name: c.object.metadata.name,
      userInfo: {username: 'alice', groups: ['system:authenticated'], extra: {}},
      resource: {group: 'resource.k8s.io', version, resource: c.object.kind === 'ResourceClaimTemplate' ? 'resourceclaimtemplates' : 'resourceclaims'},
    };
    const r = admit(p, {request, object: toVersion(c.object, version), oldObject: c.oldObject ? toVersion(c.oldObject, version) : null, namespaceObject: c.namespace});
    results.push({suite: `policy/${p.metadata.name}`, name: c.name, expected: c.expected, notApplied: !!c.notApplied,
      allowed: r.allowed, applied: r.applies ? [p.metadata.name] : [], failed: r.failed.map(f => f.message)});
  }
}

// The seed guide's step-5 policy, for the record: on resource.k8s.io/v1 it rejects valid claims
// (requests[].deviceClassName does not exist there) and every template (no object.spec.devices),
// and it misses adminAccess in any request but the first.
const seedPolicy = {
  spec: {
    failurePolicy: 'Fail',
    validations: [
      {expression: "object.spec.devices.requests.all(r, r.deviceClassName in ['nvidia-gpu-shared', 'nvidia-gpu-exclusive', 'tpu-v5e'])"},
      // Seed: `!has(requests[0].adminAccess) || requests[0].adminAccess == false`; cel-js rejects has()
      // on an indexed operand, so the same check is written with an optional field.
      {expression: 'object.spec.devices.requests[0].?adminAccess.orValue(false) == false'},
      {expression: 'size(object.spec.devices.requests) <= 8'},
    ],
  },
};
const seedRequest = {operation: 'CREATE', resource: {group: 'resource.k8s.io', version: 'v1', resource: 'resourceclaims'}, userInfo: {username: 'alice'}};
const seedClaim = requests => ({apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: {name: 'c'}, spec: {devices: {requests}}});
for (const [name, object, seedSays] of [
  ['seed denies a valid v1 claim of an approved class', seedClaim([{name: 'a', exactly: {deviceClassName: 'nvidia-gpu-exclusive'}}]), 'deny'],
  ['seed denies every v1 template (reads object.spec.devices)', {kind: 'ResourceClaimTemplate', spec: {spec: {devices: {requests: [{name: 'a', exactly: {deviceClassName: 'nvidia-gpu-exclusive'}}]}}}}, 'deny'],
  ['seed allows adminAccess in the second request', seedClaim([{name: 'a', deviceClassName: 'nvidia-gpu-exclusive'}, {name: 'b', deviceClassName: 'nvidia-gpu-exclusive', adminAccess: true}]), 'allow'],
]) {
  const r = admit(seedPolicy, {request: seedRequest, object});
  results.push({suite: 'seed-policy', name, expected: seedSays, allowed: r.allowed, applied: ['seed'], failed: r.failed.map(f => f.message)});
}

// ResourceSlices: the plugin on the right node, on another node, without a node, and other users.
const slicePolicies = policies.filter(p => bound(p) && p.spec.matchConstraints.resourceRules.some(r => r.resources.includes('resourceslices')));
for (const c of sliceCases({driver, pluginUser})) {
  for (const [k8s, served] of Object.entries(SERVED)) {
    for (const version of served) {
      const request = {
        operation: c.operation, name: 'slice', namespace: '',
        userInfo: c.userInfo,
        resource: {group: 'resource.k8s.io', version, resource: 'resourceslices'},
      };
      const applied = [];
      const failed = [];
      for (const p of slicePolicies.filter(p => matches(p, request, served))) {
        const r = admit(p, {request, object: c.object, oldObject: c.oldObject});
        if (r.applies) applied.push(p.metadata.name);
        failed.push(...r.failed.map(f => `${p.metadata.name}: ${f.message}`));
      }
      results.push({suite: `slices/${k8s}/${version}`, name: c.name, expected: c.expected, notApplied: !!c.notApplied, allowed: failed.length === 0, applied, failed});
    }
  }
}

// Pods in the release namespace: the chart's own pods pass the pod-hardening policy, and each
// single weakening of them is denied.
const hardening = policies.find(p => p.metadata.name.endsWith('-pod-hardening'));
if (hardening) {
  const podOf = (workload) => ({apiVersion: 'v1', kind: 'Pod', metadata: {name: workload.metadata.name, namespace: workload.metadata.namespace}, spec: structuredClone(workload.spec.template.spec)});
  const deployment = objects.find(o => o.kind === 'Deployment');
  const mutate = (base, f) => { const p = podOf(base); f(p.spec); return p; };
  const sc = s => s.containers[0].securityContext;
  const podCases = [
    ['the rendered kubelet plugin pod', 'allow', podOf(daemonSet)],
    ['the rendered controller pod', 'allow', podOf(deployment)],
    ['privileged: true', 'deny', mutate(daemonSet, s => { sc(s).privileged = true; })],
    ['capabilities add SYS_ADMIN (the seed\'s suggestion)', 'deny', mutate(daemonSet, s => { sc(s).capabilities.add = ['SYS_ADMIN']; })],
    ['capabilities drop removed', 'deny', mutate(daemonSet, s => { delete sc(s).capabilities.drop; })],
    ['allowPrivilegeEscalation unset', 'deny', mutate(deployment, s => { delete sc(s).allowPrivilegeEscalation; })],
    ['writable root filesystem', 'deny', mutate(deployment, s => { sc(s).readOnlyRootFilesystem = false; })],
    ['seccomp Unconfined on the container', 'deny', mutate(daemonSet, s => { sc(s).seccompProfile = {type: 'Unconfined'}; })],
    ['hostPID', 'deny', mutate(daemonSet, s => { s.hostPID = true; })],
    ['hostNetwork', 'deny', mutate(deployment, s => { s.hostNetwork = true; })],
    ['hostPort', 'deny', mutate(deployment, s => { s.containers[0].ports[0].hostPort = 8443; })],
    ['hostPath / (host root)', 'deny', mutate(daemonSet, s => { s.volumes.push({name: 'root', hostPath: {path: '/'}}); })],
    ['hostPath of the whole plugins dir (other drivers\' sockets)', 'deny', mutate(daemonSet, s => { s.volumes.push({name: 'all', hostPath: {path: '/var/lib/kubelet/plugins'}}); })],
    ['hostPath /dev', 'deny', mutate(daemonSet, s => { s.volumes.push({name: 'dev', hostPath: {path: '/dev'}}); })],
    ['a node-files hostPath (containerd config) mounted writable', 'deny', mutate(daemonSet, s => { s.containers[0].volumeMounts.find(m => m.mountPath === '/etc/containerd').readOnly = false; })],
    ['a node-files hostPath mounted by a second container without readOnly', 'deny', mutate(daemonSet, s => { s.containers.push({name: 'x', image: 'x', securityContext: structuredClone(s.containers[0].securityContext), volumeMounts: [{name: s.containers[0].volumeMounts.find(m => m.mountPath === '/etc/containerd').name, mountPath: '/c'}]}); })],
    ['Bidirectional mount propagation', 'deny', mutate(daemonSet, s => { s.containers[0].volumeMounts[0].mountPropagation = 'Bidirectional'; })],
    ['procMount Unmasked', 'deny', mutate(daemonSet, s => { sc(s).procMount = 'Unmasked'; })],
    ['a pod sysctl', 'deny', mutate(deployment, s => { s.securityContext.sysctls = [{name: 'kernel.shm_rmid_forced', value: '1'}]; })],
    ['custom SELinux type on the container', 'deny', mutate(daemonSet, s => { sc(s).seLinuxOptions = {type: 'spc_t'}; })],
    ['SELinux level only (MCS labels, as OpenShift assigns) is fine', 'allow', mutate(deployment, s => { s.securityContext.seLinuxOptions = {level: 's0:c123,c456'}; })],
    ['AppArmor Unconfined on the pod', 'deny', mutate(daemonSet, s => { s.securityContext.appArmorProfile = {type: 'Unconfined'}; })],
    ['AppArmor unconfined through the legacy annotation', 'deny', (() => { const p = podOf(daemonSet); p.metadata.annotations = {'container.apparmor.security.beta.kubernetes.io/kubelet-plugin': 'unconfined'}; return p; })()],
    ['Windows hostProcess', 'deny', mutate(deployment, s => { s.securityContext.windowsOptions = {hostProcess: true}; })],
    ['a privileged init container', 'deny', mutate(deployment, s => { s.initContainers = [{name: 'init', image: 'x', securityContext: {privileged: true}}]; })],
    ['a privileged ephemeral (debug) container', 'deny', mutate(deployment, s => { s.ephemeralContainers = [{name: 'debug', image: 'x', securityContext: {privileged: true}}]; })],
  ];
  for (const [name, expected, pod] of podCases) {
    const request = {operation: 'CREATE', namespace: pod.metadata.namespace, name: pod.metadata.name, userInfo: {username: 'system:serviceaccount:kube-system:daemon-set-controller'},
      resource: {group: '', version: 'v1', resource: 'pods'}};
    const r = admit(hardening, {request, object: pod});
    results.push({suite: 'pod-hardening', name, expected, allowed: r.allowed, applied: r.applies ? [hardening.metadata.name] : [], failed: r.failed.map(f => f.message)});
  }
}

// Tenant pods: the paths around DRA (js/tenant-pods.mjs).
results.push(...evalTenantPods({policies, bindings, daemonSet}));

// The webhook's matchConditions: CREATE and spec changes of claims and templates carrying a config for
// this driver go to the webhook; metadata-only updates and objects without such a config do not.
{
  const cfg = d => ({devices: {requests: [{name: 'a'}], config: [{opaque: {driver: d, parameters: {apiVersion: 'resource.securedra.io/v1alpha1', kind: 'GpuConfig'}}}]}});
  const cases = [
    ['claim create with a config for this driver is sent', 'CREATE', 'resourceclaims', null, cfg(driver), true],
    ['template create with a config for this driver (at spec.spec) is sent', 'CREATE', 'resourceclaimtemplates', null, {spec: cfg(driver)}, true],
    ['template whose config is only at spec.devices (wrong place) is not sent', 'CREATE', 'resourceclaimtemplates', null, cfg(driver), false],
    ['claim create without configs is not sent', 'CREATE', 'resourceclaims', null, {devices: {requests: [{name: 'a'}]}}, false],
    ['claim create with an empty spec is not sent', 'CREATE', 'resourceclaims', null, {}, false],
    ["claim create with only another driver's config is not sent", 'CREATE', 'resourceclaims', null, cfg('gpu.example.com'), false],
    ['claim with a non-opaque config entry and one for this driver is sent', 'CREATE', 'resourceclaims', null,
      {devices: {config: [{requests: ['a']}, ...cfg(driver).devices.config]}}, true],
    ['metadata-only update (finalizer removal) is not sent', 'UPDATE', 'resourceclaims', cfg(driver), cfg(driver), false],
    ['spec update with a config for this driver is sent', 'UPDATE', 'resourceclaims', {devices: {requests: [{name: 'a'}]}}, cfg(driver), true],
  ];
  for (const [name, operation, resource, oldSpec, newSpec, expected] of cases) {
    const ctx = toCel({request: {operation, resource: {group: 'resource.k8s.io', version: 'v1', resource}}, object: {spec: newSpec}, oldObject: oldSpec ? {spec: oldSpec} : null});
    const sent = webhook.webhooks.every(w => (w.matchConditions ?? []).every(m => env.evaluate(m.expression, ctx) === true));
    results.push({suite: 'webhook-matchConditions', name, expected: expected ? 'allow' : 'deny', allowed: sent, applied: [], failed: []});
  }
}

// DeviceClass selectors select exactly this driver's devices.
for (const dc of deviceClasses) {
  for (const [d, expected] of [[driver, true], ['gpu.example.com', false]]) {
    const ok = dc.spec.selectors.every(s => env.evaluate(s.cel.expression, toCel({device: {driver: d, attributes: {}, capacity: {}}})) === true);
    results.push({suite: 'deviceclass-selectors', name: `${dc.metadata.name} selects ${d}`, expected: expected ? 'allow' : 'deny', allowed: ok, applied: [], failed: []});
  }
}

process.stdout.write(JSON.stringify(results));
