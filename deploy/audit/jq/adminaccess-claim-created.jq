# A ResourceClaim or ResourceClaimTemplate created with adminAccess: true (any resource.k8s.io version,
# any request or subrequest). Input: audit events, one JSON object per line (the log backend's format).
select(.stage == "ResponseComplete"
  and .objectRef.apiGroup == "resource.k8s.io"
  and .verb == "create"
  and (.objectRef.resource == "resourceclaims" or .objectRef.resource == "resourceclaimtemplates")
  and .objectRef.subresource == null
  and ([.requestObject | .. | objects | select(.adminAccess == true)] | length > 0))
