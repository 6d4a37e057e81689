// The tenant pod policy's corpus (issue 17, "Paths around DRA"): each way to a GPU that goes
// around DRA is denied in a labelled tenant namespace; a pod that gets its GPU through a
// ResourceClaim passes, and so do the operator's and the driver's own pods in their namespaces.
// Bindings are emulated too (namespaceSelector), so the namespace choice is tested, not assumed.
import {admit, env} from './vap.mjs';

/** Does a binding's namespaceSelector select this Namespace object? (matchLabels + In/NotIn/Exists/DoesNotExist) */
export function selects(binding, namespace) {
  const sel = binding.spec.matchResources?.namespaceSelector;
  if (!sel) return true;
  const labels = namespace.metadata.labels ?? {};
  const okLabels = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const okExprs = (sel.matchExpressions ?? []).every(e => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In': return has && e.values.includes(labels[e.key]);
      case 'NotIn': return !has || !e.values.includes(labels[e.key]);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      default: throw new Error(`operator ${e.operator}`);
    }
  });
  return okLabels && okExprs;
}

const nsObject = (name, labels = {}) => ({apiVersion: 'v1', kind: 'Namespace', metadata: {name, labels: {'kubernetes.io/metadata.name': name, ...labels}}});

export function tenantPodCases({tenantLabel, releaseNamespace, daemonSet, deniedRuntimeClasses}) {
  const tenant = nsObject('tenant-a', {[tenantLabel]: 'true', 'pod-security.kubernetes.io/enforce': 'restricted'});
  const unlabelled = nsObject('team-b');
  const operator = nsObject('gpu-operator', {[tenantLabel]: 'true'});
  const kubeSystem = nsObject('kube-system', {[tenantLabel]: 'true'});
  const release = nsObject(releaseNamespace, {[tenantLabel]: 'true'});

  const restricted = {allowPrivilegeEscalation: false, capabilities: {drop: ['ALL']}, runAsNonRoot: true, seccompProfile: {type: 'RuntimeDefault'}};
  // A tenant training pod that gets its GPU the DRA way.
  const draPod = () => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: {name: 'train', namespace: 'tenant-a', annotations: {'prometheus.io/scrape': 'true'}},
    spec: {
      resourceClaims: [{name: 'gpu', resourceClaimTemplateName: 'one-gpu'}],
      containers: [{
        name: 'main', image: 'nvcr.io/nvidia/pytorch:25.01-py3',
        env: [{name: 'CUDA_VISIBLE_DEVICES', value: '0'}, {name: 'PYTHONUNBUFFERED', value: '1'}],
        envFrom: [{configMapRef: {name: 'settings'}, prefix: 'APP_'}],
        resources: {claims: [{name: 'gpu'}], requests: {cpu: '2', memory: '8Gi'}, limits: {memory: '8Gi'}},
        volumeMounts: [{name: 'scratch', mountPath: '/scratch'}, {name: 'shm', mountPath: '/var/run/app'}],
        securityContext: restricted,
      }],
      initContainers: [{name: 'fetch', image: 'busybox', securityContext: restricted}],
      volumes: [{name: 'scratch', emptyDir: {}}, {name: 'shm', emptyDir: {medium: 'Memory'}}],
    },
  });
  const mutate = (f, base = draPod) => { const p = base(); f(p); return p; };
  const main = p => p.spec.containers[0];

  const cases = [
    ['a pod with its GPU through a ResourceClaim', 'allow', draPod()],
    ['a pod without any GPU', 'allow', mutate(p => { delete p.spec.resourceClaims; delete main(p).resources.claims; })],
    ['a pod with an unrelated RuntimeClass (gVisor)', 'allow', mutate(p => { p.spec.runtimeClassName = 'gvisor'; })],
    ['an unrelated annotation mentioning nvidia', 'allow', mutate(p => { p.metadata.annotations['example.com/nvidia-note'] = 'x'; })],
    ['an env var that only contains NVIDIA_ (not a prefix)', 'allow', mutate(p => { main(p).env.push({name: 'MY_NVIDIA_VISIBLE_DEVICES', value: 'all'}); })],
    // B1: the nvidia runtime and the variables it reads.
    ['runtimeClassName nvidia', 'deny', mutate(p => { p.spec.runtimeClassName = 'nvidia'; })],
    ['runtimeClassName nvidia-cdi', 'deny', mutate(p => { p.spec.runtimeClassName = 'nvidia-cdi'; })],
    ['runtimeClassName nvidia-legacy', 'deny', mutate(p => { p.spec.runtimeClassName = 'nvidia-legacy'; })],
    ['NVIDIA_VISIBLE_DEVICES=all in a container', 'deny', mutate(p => { main(p).env.push({name: 'NVIDIA_VISIBLE_DEVICES', value: 'all'}); })],
    ['NVIDIA_VISIBLE_DEVICES=<full CDI name of another tenant\'s claim>', 'deny',
      mutate(p => { main(p).env.push({name: 'NVIDIA_VISIBLE_DEVICES', value: 'k8s.gpu.nvidia.com/claim=0b0f3c2e-4a1d-4c55-9a8e-1f2d3c4b5a69-gpu-0'}); })],
    ['NVIDIA_VISIBLE_DEVICES from a ConfigMap key (valueFrom)', 'deny',
      mutate(p => { main(p).env.push({name: 'NVIDIA_VISIBLE_DEVICES', valueFrom: {configMapKeyRef: {name: 'c', key: 'k'}}}); })],
    ['NVIDIA_VISIBLE_DEVICES in an init container', 'deny', mutate(p => { p.spec.initContainers[0].env = [{name: 'NVIDIA_VISIBLE_DEVICES', value: 'all'}]; })],
    ['NVIDIA_DRIVER_CAPABILITIES=all', 'deny', mutate(p => { main(p).env.push({name: 'NVIDIA_DRIVER_CAPABILITIES', value: 'all'}); })],
    ['DOCKER_RESOURCE_GPU (legacy swarm variable)', 'deny', mutate(p => { main(p).env.push({name: 'DOCKER_RESOURCE_GPU', value: '0'}); })],
    ['envFrom prefix NVIDIA_', 'deny', mutate(p => { main(p).envFrom.push({configMapRef: {name: 'gpu'}, prefix: 'NVIDIA_'}); })],
    ['envFrom prefix NV (+ key IDIA_VISIBLE_DEVICES)', 'deny', mutate(p => { main(p).envFrom.push({configMapRef: {name: 'gpu'}, prefix: 'NV'}); })],
    ['envFrom prefix NVIDIA_VISIBLE_ (+ key DEVICES)', 'deny', mutate(p => { main(p).envFrom.push({secretRef: {name: 'gpu'}, prefix: 'NVIDIA_VISIBLE_'}); })],
    ['envFrom prefix DOCKER_RESOURCE', 'deny', mutate(p => { main(p).envFrom.push({configMapRef: {name: 'gpu'}, prefix: 'DOCKER_RESOURCE'}); })],
    // B2/B3: annotations that inject devices.
    ['annotation cdi.k8s.io/gpu (CRI-O copies it to every container)', 'deny', mutate(p => { p.metadata.annotations['cdi.k8s.io/gpu'] = 'k8s.gpu.nvidia.com/claim=x-gpu-0'; })],
    ['annotation nvidia.cdi.k8s.io/container.main (toolkit NRI plugin)', 'deny', mutate(p => { p.metadata.annotations['nvidia.cdi.k8s.io/container.main'] = 'nvidia.com/gpu=all'; })],
    ['annotation nvidia.cdi.k8s.io/pod', 'deny', mutate(p => { p.metadata.annotations['nvidia.cdi.k8s.io/pod'] = 'nvidia.com/gpu=all'; })],
    ['annotation devices.noderesource.dev/container.main (NRI device injector)', 'deny', mutate(p => { p.metadata.annotations['devices.noderesource.dev/container.main'] = '- path: /dev/nvidia0'; })],
    ['annotation cdi-devices.noderesource.dev/pod', 'deny', mutate(p => { p.metadata.annotations['cdi-devices.noderesource.dev/pod'] = 'nvidia.com/gpu=0'; })],
    ['annotation cdi-devices.nri.io/container.main', 'deny', mutate(p => { p.metadata.annotations['cdi-devices.nri.io/container.main'] = 'nvidia.com/gpu=0'; })],
    // B4: the device plugin's resource.
    ['limits nvidia.com/gpu', 'deny', mutate(p => { main(p).resources.limits['nvidia.com/gpu'] = '1'; })],
    ['requests nvidia.com/mig-1g.10gb in an init container', 'deny', mutate(p => { p.spec.initContainers[0].resources = {requests: {'nvidia.com/mig-1g.10gb': '1'}, limits: {'nvidia.com/mig-1g.10gb': '1'}}; })],
    ['pod-level resources nvidia.com/gpu', 'deny', mutate(p => { p.spec.resources = {limits: {'nvidia.com/gpu': '1'}}; })],
    // B5/B7: privilege and host namespaces.
    ['privileged container', 'deny', mutate(p => { main(p).securityContext = {...restricted, privileged: true}; })],
    ['capabilities add SYS_ADMIN', 'deny', mutate(p => { main(p).securityContext = {...restricted, capabilities: {drop: ['ALL'], add: ['SYS_ADMIN']}}; })],
    ['capabilities add in an init container', 'deny', mutate(p => { p.spec.initContainers[0].securityContext = {capabilities: {add: ['NET_ADMIN']}}; })],
    ['hostPID', 'deny', mutate(p => { p.spec.hostPID = true; })],
    ['hostIPC', 'deny', mutate(p => { p.spec.hostIPC = true; })],
    // B6/B8: hostPath and the volume-mount strategy.
    ['hostPath /dev', 'deny', mutate(p => { p.spec.volumes.push({name: 'dev', hostPath: {path: '/dev'}}); })],
    ['hostPath /var/run/cdi (read other tenants\' specs)', 'deny', mutate(p => { p.spec.volumes.push({name: 'cdi', hostPath: {path: '/var/run/cdi', type: 'Directory'}}); })],
    ['mount at /var/run/nvidia-container-devices/all', 'deny', mutate(p => { main(p).volumeMounts.push({name: 'scratch', mountPath: '/var/run/nvidia-container-devices/all'}); })],
    ['mount at /var/run/nvidia-container-devices', 'deny', mutate(p => { main(p).volumeMounts.push({name: 'scratch', mountPath: '/var/run/nvidia-container-devices'}); })],
    ['mount at /run/nvidia-container-devices/0 (/var/run links to /run)', 'deny', mutate(p => { main(p).volumeMounts.push({name: 'scratch', mountPath: '/run/nvidia-container-devices/0'}); })],
    ['mount at //var//run/nvidia-container-devices (unclean path)', 'deny', mutate(p => { main(p).volumeMounts.push({name: 'scratch', mountPath: '//var//run/nvidia-container-devices'}); })],
    ['mount at /var/run/nvidia-container-devices-not (other name)', 'allow', mutate(p => { main(p).volumeMounts.push({name: 'scratch', mountPath: '/var/run/nvidia-container-devices-not'}); })],
  ];

  const out = cases.map(([name, expected, object]) => ({name, expected, object, namespace: tenant, operation: 'CREATE'}));
  // Every RuntimeClass the chart's values list, whatever they are.
  for (const rc of deniedRuntimeClasses) {
    out.push({name: `RuntimeClass ${rc} from values.policy.tenantPods.deniedRuntimeClasses`, expected: 'deny', namespace: tenant, operation: 'CREATE', object: mutate(p => { p.spec.runtimeClassName = rc; })});
  }

  // Ephemeral (debug) containers arrive as an UPDATE of the pods/ephemeralcontainers subresource.
  const withDebug = extra => mutate(p => { p.spec.ephemeralContainers = [{name: 'debug', image: 'busybox', ...extra}]; });
  out.push(
    {name: 'ephemeral container with NVIDIA_VISIBLE_DEVICES=all', expected: 'deny', namespace: tenant, operation: 'UPDATE', subResource: 'ephemeralcontainers',
      oldObject: draPod(), object: withDebug({env: [{name: 'NVIDIA_VISIBLE_DEVICES', value: 'all'}]})},
    {name: 'privileged ephemeral container', expected: 'deny', namespace: tenant, operation: 'UPDATE', subResource: 'ephemeralcontainers',
      oldObject: draPod(), object: withDebug({securityContext: {privileged: true}})},
    {name: 'plain ephemeral container', expected: 'allow', namespace: tenant, operation: 'UPDATE', subResource: 'ephemeralcontainers',
      oldObject: draPod(), object: withDebug({})},
    {name: 'update adding a cdi.k8s.io annotation', expected: 'deny', namespace: tenant, operation: 'UPDATE',
      oldObject: draPod(), object: mutate(p => { p.metadata.annotations['cdi.k8s.io/x'] = 'nvidia.com/gpu=all'; })},
    // A pod admitted before the policy (or before the label) keeps working: label/finalizer updates are not re-judged.
    {name: 'label update of a pod admitted before the policy', expected: 'allow', notApplied: true, namespace: tenant, operation: 'UPDATE',
      oldObject: mutate(p => { p.spec.runtimeClassName = 'nvidia'; }), object: mutate(p => { p.spec.runtimeClassName = 'nvidia'; p.metadata.labels = {done: 'true'}; })},
  );

  // Namespaces: the policy follows the label; the operator's and the driver's namespaces never match.
  const nvidiaPod = ns => mutate(p => {
    p.metadata.namespace = ns;
    p.spec.runtimeClassName = 'nvidia';
    p.spec.volumes.push({name: 'dp', hostPath: {path: '/var/lib/kubelet/device-plugins'}});
    main(p).env.push({name: 'NVIDIA_VISIBLE_DEVICES', value: 'all'});
    main(p).securityContext = {privileged: true};
  });
  const pluginPod = {apiVersion: 'v1', kind: 'Pod', metadata: {name: 'plugin', namespace: releaseNamespace}, spec: structuredClone(daemonSet.spec.template.spec)};
  out.push(
    {name: 'GPU Operator device plugin pod (nvidia runtime, privileged, hostPath) in gpu-operator', expected: 'allow', notApplied: true, namespace: operator, operation: 'CREATE', object: nvidiaPod('gpu-operator')},
    {name: 'a kube-system pod with the nvidia runtime', expected: 'allow', notApplied: true, namespace: kubeSystem, operation: 'CREATE', object: nvidiaPod('kube-system')},
    {name: 'the rendered SecureDra kubelet plugin pod in the release namespace', expected: 'allow', notApplied: true, namespace: release, operation: 'CREATE', object: pluginPod},
    {name: 'a namespace without the tenant label is not selected', expected: 'allow', notApplied: true, namespace: unlabelled, operation: 'CREATE', object: nvidiaPod('team-b')},
    {name: 'the same nvidia pod in a labelled tenant namespace', expected: 'deny', namespace: tenant, operation: 'CREATE', object: nvidiaPod('tenant-a')},
  );
  return out;
}

/** Runs every case through the bound tenant pod policy; returns result rows for eval-policies.mjs. */
export function evalTenantPods({policies, bindings, daemonSet}) {
  const policy = policies.find(p => p.metadata.name.endsWith('-tenant-pods'));
  if (!policy) return [];
  const binding = bindings.find(b => b.spec.policyName === policy.metadata.name);
  const tenantLabel = Object.keys(binding.spec.matchResources.namespaceSelector.matchLabels)[0];
  const deniedRuntimeClasses = env.evaluate(policy.spec.variables.find(v => v.name === 'deniedRuntimeClasses').expression, {});
  const rows = [];
  for (const c of tenantPodCases({tenantLabel, releaseNamespace: daemonSet.metadata.namespace, daemonSet, deniedRuntimeClasses})) {
    const request = {operation: c.operation, subResource: c.subResource ?? '', namespace: c.namespace.metadata.name, name: c.object.metadata.name,
      userInfo: {username: 'alice', groups: ['tenant-a-developers', 'system:authenticated'], extra: {}},
      resource: {group: '', version: 'v1', resource: 'pods'}};
    let r = {applies: false, allowed: true, failed: []};
    if (binding.spec.validationActions.includes('Deny') && selects(binding, c.namespace)) {
      r = admit(policy, {request, object: c.object, oldObject: c.oldObject ?? null, namespaceObject: c.namespace});
    }
    rows.push({suite: 'tenant-pods', name: c.name, expected: c.expected, notApplied: !!c.notApplied,
      allowed: r.allowed, applied: r.applies ? [policy.metadata.name] : [], failed: r.failed.map(f => f.message)});
  }
  return rows;
}
