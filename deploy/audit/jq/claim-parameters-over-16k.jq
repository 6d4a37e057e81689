# A ResourceClaim or ResourceClaimTemplate write whose device configs (opaque parameters) exceed 16 KiB
# serialized. Input: audit events, one JSON object per line.
select(.stage == "ResponseComplete"
  and .objectRef.apiGroup == "resource.k8s.io"
  and (.verb == "create" or .verb == "update" or .verb == "patch")
  and (.objectRef.resource == "resourceclaims" or .objectRef.resource == "resourceclaimtemplates")
  and ([.requestObject.spec.devices.config, .requestObject.spec.spec.devices.config]
       | map(select(. != null) | tojson | length) | max // 0) > 16384)
