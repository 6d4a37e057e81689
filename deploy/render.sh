#!/usr/bin/env bash
# Renders deploy/manifests/securedra.yaml from the Helm chart with its default values, for
# `kubectl apply -k deploy/manifests`. tests/Deploy.Tests checks the committed file equals a
# fresh render, so run this after every chart change.
set -euo pipefail
cd "$(dirname "$0")/.."
TOOLS=${SECUREDRA_TOOLS_DIR:-$PWD/.tools}
HELM=${HELM:-$TOOLS/bin/helm}
[ -x "$HELM" ] || HELM=$(command -v helm) || { echo "helm not found (run install_node_tools in .ci/run)" >&2; exit 1; }
"$HELM" lint deploy/helm/securedra >/dev/null
{
  echo "# Rendered by deploy/render.sh from deploy/helm/securedra (default values). Do not edit."
  "$HELM" template securedra deploy/helm/securedra --namespace securedra-system
} > deploy/manifests/securedra.yaml
echo "wrote deploy/manifests/securedra.yaml"
