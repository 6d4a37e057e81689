# Any DeviceClass create, update, patch or delete. Input: audit events, one JSON object per line.
select(.stage == "ResponseComplete"
  and .objectRef.apiGroup == "resource.k8s.io"
  and .objectRef.resource == "deviceclasses"
  and (.verb as $v | ["create", "update", "patch", "delete", "deletecollection"] | index($v) != null))
