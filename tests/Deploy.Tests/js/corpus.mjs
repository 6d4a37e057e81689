// The admission corpus: ResourceClaims/ResourceClaimTemplates (written in the v1 shape and
// converted to v1beta2/v1beta1) and ResourceSlice writes. `expected` is the verdict of the
// whole bundle (every applicable policy).

/** resource.k8s.io versions served per Kubernetes version (kubelet-dra-protocol.md §5). */
export const SERVED = {
  '1.32': ['v1beta1'],
  '1.33': ['v1beta1', 'v1beta2'],
  '1.36': ['v1', 'v1beta2', 'v1beta1'],
};

/** Converts a v1-shaped claim or template to `version` (v1beta2 = v1 shape; v1beta1 = flat requests). */
export function toVersion(object, version) {
  const o = structuredClone(object);
  o.apiVersion = `resource.k8s.io/${version}`;
  if (version !== 'v1beta1') return o;
  const spec = o.kind === 'ResourceClaimTemplate' ? o.spec.spec : o.spec;
  for (const r of spec?.devices?.requests ?? []) {
    if (r.exactly) {
      Object.assign(r, r.exactly);
      delete r.exactly;
    }
  }
  return o;
}

const ns = (name, labels = {}) => ({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: {'kubernetes.io/metadata.name': name, ...labels}}});
const tenant = ns('tenant-a');

export function claimCases({driver, approved}) {
  const [classA, classB] = [approved[0], approved[1] ?? approved[0]];
  const bad = 'attacker-gpu-class';
  const exactly = (name, deviceClassName, extra = {}) => ({name, exactly: {deviceClassName, ...extra}});
  const firstAvailable = (name, ...classes) => ({name, firstAvailable: classes.map((c, i) => ({name: `alt${i}`, deviceClassName: c}))});
  const gpuConfig = (params, requests) => ({...(requests ? {requests} : {}), opaque: {driver, parameters: {apiVersion: 'resource.securedra.io/v1alpha1', kind: 'GpuConfig', ...params}}});
  const claim = (requests, config) => ({
    apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim',
    metadata: {name: 'c', namespace: 'tenant-a'},
    spec: {devices: {requests, ...(config ? {config} : {})}},
  });

  const base = [
    {name: 'one exactly request of an approved class', expected: 'allow', object: claim([exactly('gpu', classA)])},
    {name: 'firstAvailable with only approved classes', expected: 'allow', object: claim([firstAvailable('gpu', classA, classB)])},
    {name: 'exactly and firstAvailable requests side by side', expected: 'allow', object: claim([exactly('a', classA), firstAvailable('b', classB, classA)])},
    {name: 'exactly request of an unapproved class', expected: 'deny', object: claim([exactly('gpu', bad)])},
    {name: 'unapproved class in a later firstAvailable entry', expected: 'deny', object: claim([firstAvailable('gpu', classA, bad)])},
    {name: 'unapproved class in a later request', expected: 'deny', object: claim([exactly('a', classA), exactly('b', bad)])},
    {name: 'adminAccess true in the first request (tenant namespace)', expected: 'deny', object: claim([exactly('a', classA, {adminAccess: true})])},
    {name: 'adminAccess true in a later request (tenant namespace)', expected: 'deny', object: claim([exactly('a', classA), exactly('b', classA, {adminAccess: true})])},
    {name: 'adminAccess false is fine', expected: 'allow', object: claim([exactly('a', classA, {adminAccess: false})])},
    {name: 'adminAccess in a namespace labelled resource.kubernetes.io/admin-access=true', expected: 'allow',
      namespace: ns('gpu-admin', {'resource.kubernetes.io/admin-access': 'true'}), object: claim([exactly('a', classA), exactly('b', classA, {adminAccess: true})])},
    {name: 'adminAccess in a namespace labelled resource.k8s.io/admin-access=true (1.33 key)', expected: 'allow',
      namespace: ns('gpu-admin', {'resource.k8s.io/admin-access': 'true'}), object: claim([exactly('b', classA, {adminAccess: true})])},
    {name: 'adminAccess with the admin label set to "True" (case-sensitive)', expected: 'deny',
      namespace: ns('gpu-admin', {'resource.kubernetes.io/admin-access': 'True'}), object: claim([exactly('b', classA, {adminAccess: true})])},
    {name: 'adminAccess with the admin label on an unrelated key', expected: 'deny',
      namespace: ns('gpu-admin', {'admin-access': 'true'}), object: claim([exactly('b', classA, {adminAccess: true})])},
    {name: 'an admin namespace still needs approved classes', expected: 'deny',
      namespace: ns('gpu-admin', {'resource.kubernetes.io/admin-access': 'true'}), object: claim([exactly('b', bad, {adminAccess: true})])},
    {name: 'exactly 8 requests', expected: 'allow', object: claim([...Array(8).keys()].map(i => exactly(`r${i}`, classA)))},
    {name: '9 requests', expected: 'deny', object: claim([...Array(9).keys()].map(i => exactly(`r${i}`, classA)))},
    {name: 'count 8 in one request', expected: 'allow', object: claim([exactly('a', classA, {count: 8})])},
    {name: 'count 9 in one request', expected: 'deny', object: claim([exactly('a', classA, {count: 9})])},
    {name: 'allocationMode All by a tenant', expected: 'deny', object: claim([exactly('a', classA, {allocationMode: 'All'})])},
    {name: 'allocationMode All in an admin namespace', expected: 'allow',
      namespace: ns('gpu-admin', {'resource.kubernetes.io/admin-access': 'true'}), object: claim([exactly('a', classA, {allocationMode: 'All', adminAccess: true})])},
    {name: 'config with resetPolicy ZeroVRAMOnRelease', expected: 'allow', object: claim([exactly('gpu', classA)], [gpuConfig({resetPolicy: 'ZeroVRAMOnRelease'})])},
    {name: 'config without resetPolicy (the class default applies)', expected: 'allow', object: claim([exactly('gpu', classA)], [gpuConfig({})])},
    {name: 'tenant config with resetPolicy None', expected: 'deny', object: claim([exactly('gpu', classA)], [gpuConfig({resetPolicy: 'None'})])},
    {name: 'resetPolicy None in a later config scoped to one request', expected: 'deny',
      object: claim([exactly('a', classA), exactly('b', classA)], [gpuConfig({resetPolicy: 'ZeroVRAMOnRelease'}, ['a']), gpuConfig({resetPolicy: 'None'}, ['b'])])},
    {name: 'resetPolicy of the wrong type', expected: 'deny', object: claim([exactly('gpu', classA)], [gpuConfig({resetPolicy: 0})])},
    {name: 'resetPolicy None in another driver\'s config is ignored', expected: 'allow',
      object: claim([exactly('gpu', classA)], [{opaque: {driver: 'gpu.example.com', parameters: {resetPolicy: 'None'}}}])},
    {name: 'config of this driver without apiVersion and kind', expected: 'deny',
      object: claim([exactly('gpu', classA)], [{opaque: {driver, parameters: {resetPolicy: 'ZeroVRAMOnRelease'}}}])},
    {name: 'config of this driver with a foreign kind', expected: 'deny',
      object: claim([exactly('gpu', classA)], [{opaque: {driver, parameters: {apiVersion: 'resource.securedra.io/v1alpha1', kind: 'Other'}}}])},
    {name: 'claim without device requests', expected: 'allow', object: {apiVersion: 'resource.k8s.io/v1', kind: 'ResourceClaim', metadata: {name: 'e', namespace: 'tenant-a'}, spec: {}}},
    // The seed guide's shape: deviceClassName flat on a v1 request (no exactly, no firstAvailable).
    {name: 'v1 request with a flat deviceClassName (the seed\'s shape) is not a valid v1 request', expected: 'deny', versions: ['v1', 'v1beta2'],
      object: claim([{name: 'gpu', deviceClassName: classA}])},
  ];

  const asTemplate = c => ({
    ...c,
    name: `template: ${c.name}`,
    object: {apiVersion: c.object.apiVersion, kind: 'ResourceClaimTemplate', metadata: c.object.metadata, spec: {spec: c.object.spec}},
  });

  const updates = [
    // Spec is immutable; finalizer removal during deletion must pass even if the claim would be denied today.
    {name: 'metadata-only update of a claim that no longer passes (finalizer removal)', expected: 'allow', operation: 'UPDATE', notApplied: true,
      oldObject: claim([exactly('gpu', bad)]), object: {...claim([exactly('gpu', bad)]), metadata: {name: 'c', namespace: 'tenant-a', finalizers: []}}},
    {name: 'update that changes the spec to an unapproved class', expected: 'deny', operation: 'UPDATE',
      oldObject: claim([exactly('gpu', classA)]), object: claim([exactly('gpu', bad)])},
  ];

  // resource.kubernetes.io/delete-protection: only the control plane may take it off a claim (issue 10):
  // a tenant who strips it can delete a claim whose GPU a running container still holds.
  const protection = 'resource.kubernetes.io/delete-protection';
  const withFinalizers = (finalizers, extra = {}) => {
    const c = claim([exactly('gpu', classA)]);
    return {...c, metadata: {...c.metadata, ...(finalizers ? {finalizers} : {}), ...extra}};
  };
  const user = (username, groups = ['system:authenticated']) => ({username, groups, extra: {}});
  const admin = user('kubernetes-admin', ['system:masters', 'system:authenticated']);
  const deleting = {deletionTimestamp: '2026-01-01T00:00:00Z'};
  const finalizerCases = [
    {name: 'finalizer: tenant removes delete-protection', expected: 'deny', operation: 'UPDATE',
      oldObject: withFinalizers([protection]), object: withFinalizers([])},
    {name: 'finalizer: tenant drops the finalizers field altogether', expected: 'deny', operation: 'UPDATE',
      oldObject: withFinalizers([protection]), object: withFinalizers(null)},
    {name: 'finalizer: tenant removes delete-protection from a claim being deleted', expected: 'deny', operation: 'UPDATE',
      oldObject: withFinalizers([protection], deleting), object: withFinalizers([], deleting)},
    {name: 'finalizer: tenant removes delete-protection but keeps its own finalizer', expected: 'deny', operation: 'UPDATE',
      oldObject: withFinalizers(['example.com/mine', protection]), object: withFinalizers(['example.com/mine'])},
    {name: 'finalizer: a cluster admin (system:masters) is no exception', expected: 'deny', operation: 'UPDATE', userInfo: admin,
      oldObject: withFinalizers([protection]), object: withFinalizers([])},
    {name: 'finalizer: the kubelet plugin\'s service account may not remove it either', expected: 'deny', operation: 'UPDATE',
      userInfo: user('system:serviceaccount:securedra-system:securedra-kubelet-plugin', ['system:serviceaccounts']),
      oldObject: withFinalizers([protection]), object: withFinalizers([])},
    {name: 'finalizer: a look-alike service account in another namespace', expected: 'deny', operation: 'UPDATE',
      userInfo: user('system:serviceaccount:tenant-a:resource-claim-controller', ['system:serviceaccounts']),
      oldObject: withFinalizers([protection]), object: withFinalizers([])},
    {name: 'finalizer: the resource-claim controller removes it', expected: 'allow', operation: 'UPDATE',
      userInfo: user('system:serviceaccount:kube-system:resource-claim-controller', ['system:serviceaccounts', 'system:serviceaccounts:kube-system']),
      oldObject: withFinalizers([protection], deleting), object: withFinalizers([], deleting)},
    {name: 'finalizer: kube-controller-manager without per-controller credentials removes it', expected: 'allow', operation: 'UPDATE',
      userInfo: user('system:kube-controller-manager'), oldObject: withFinalizers([protection], deleting), object: withFinalizers([], deleting)},
    {name: 'finalizer: the scheduler removes it when it rolls back its allocation', expected: 'allow', operation: 'UPDATE',
      userInfo: user('system:kube-scheduler'), oldObject: withFinalizers([protection]), object: withFinalizers([])},
    {name: 'finalizer: adding delete-protection is not judged', expected: 'allow', operation: 'UPDATE', notApplied: true,
      oldObject: withFinalizers([]), object: withFinalizers([protection])},
    {name: 'finalizer: a label change that keeps delete-protection is not judged', expected: 'allow', operation: 'UPDATE', notApplied: true,
      oldObject: withFinalizers([protection]), object: withFinalizers([protection], {labels: {team: 'a'}})},
    {name: 'finalizer: removing only another finalizer is not judged', expected: 'allow', operation: 'UPDATE', notApplied: true,
      oldObject: withFinalizers(['example.com/mine', protection]), object: withFinalizers([protection])},
  ];

  return [...base, ...base.map(asTemplate), ...updates, ...finalizerCases].map(c => ({namespace: tenant, ...c}));
}

export function sliceCases({driver, pluginUser}) {
  const slice = (nodeName, d = driver) => ({
    apiVersion: 'resource.k8s.io/v1', kind: 'ResourceSlice', metadata: {name: `${nodeName ?? 'cluster'}-${d}-x`},
    spec: {driver: d, pool: {name: nodeName ?? 'cluster', generation: 1, resourceSliceCount: 1}, ...(nodeName ? {nodeName} : {allNodes: true}), devices: []},
  });
  const plugin = node => ({username: pluginUser, groups: ['system:serviceaccounts', 'system:authenticated'],
    extra: node === undefined ? {} : {'authentication.kubernetes.io/node-name': node === null ? [] : [node], 'authentication.kubernetes.io/pod-name': ['p']}});
  const admin = {username: 'kubernetes-admin', groups: ['system:masters'], extra: {}};
  const otherSa = {username: pluginUser.replace(/:[^:]+$/, ':securedra-controller'), groups: ['system:serviceaccounts'], extra: {'authentication.kubernetes.io/node-name': ['node-b']}};
  return [
    {name: 'plugin creates its own node\'s slice', expected: 'allow', operation: 'CREATE', userInfo: plugin('node-a'), object: slice('node-a')},
    {name: 'plugin creates another node\'s slice', expected: 'deny', operation: 'CREATE', userInfo: plugin('node-a'), object: slice('node-b')},
    {name: 'plugin creates a cluster-wide (allNodes) slice', expected: 'deny', operation: 'CREATE', userInfo: plugin('node-a'), object: slice(null)},
    {name: 'plugin creates a slice of another driver on its node', expected: 'deny', operation: 'CREATE', userInfo: plugin('node-a'), object: slice('node-a', 'gpu.example.com')},
    {name: 'plugin token without the node-name extra', expected: 'deny', operation: 'CREATE', userInfo: plugin(undefined), object: slice('node-a')},
    {name: 'plugin token with an empty node-name extra', expected: 'deny', operation: 'CREATE', userInfo: plugin(null), object: slice('node-a')},
    {name: 'plugin updates its own node\'s slice', expected: 'allow', operation: 'UPDATE', userInfo: plugin('node-a'), oldObject: slice('node-a'), object: slice('node-a')},
    {name: 'plugin moves another node\'s slice to itself', expected: 'deny', operation: 'UPDATE', userInfo: plugin('node-a'), oldObject: slice('node-b'), object: slice('node-a')},
    {name: 'plugin moves its own slice to another node', expected: 'deny', operation: 'UPDATE', userInfo: plugin('node-a'), oldObject: slice('node-a'), object: slice('node-b')},
    {name: 'plugin updates another node\'s slice in place', expected: 'deny', operation: 'UPDATE', userInfo: plugin('node-a'), oldObject: slice('node-b'), object: slice('node-b')},
    {name: 'plugin deletes its own node\'s slice', expected: 'allow', operation: 'DELETE', userInfo: plugin('node-a'), oldObject: slice('node-a'), object: null},
    {name: 'plugin deletes another node\'s slice', expected: 'deny', operation: 'DELETE', userInfo: plugin('node-a'), oldObject: slice('node-b'), object: null},
    {name: 'plugin deletes a cluster-wide slice', expected: 'deny', operation: 'DELETE', userInfo: plugin('node-a'), oldObject: slice(null), object: null},
    {name: 'a cluster admin is not restricted by this policy (RBAC decides)', expected: 'allow', operation: 'CREATE', userInfo: admin, object: slice('node-b'), notApplied: true},
    {name: 'a cluster admin updating another node\'s slice is not restricted by this policy', expected: 'allow', operation: 'UPDATE', userInfo: admin, oldObject: slice('node-b'), object: slice('node-b'), notApplied: true},
    {name: 'a same-named service account in another namespace is not the plugin (exact username match)', expected: 'allow', operation: 'CREATE',
      userInfo: {...plugin('node-a'), username: pluginUser.replace(/^system:serviceaccount:[^:]+:/, 'system:serviceaccount:evil:')}, object: slice('node-b'), notApplied: true},
    {name: 'another service account of the release is not matched (RBAC gives it no slice writes)', expected: 'allow', operation: 'DELETE', userInfo: otherSa, oldObject: slice('node-a'), object: null, notApplied: true},
  ];
}
