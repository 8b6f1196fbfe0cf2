#!/usr/bin/env bash
# Builds Kova's test/dev control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl) from the Go modules pinned in this folder's go.mod.
# Output: ${KOVA_CACHE:-~/.cache/kova}/k8s-<version>/bin. A binary already there is reused.
# `build.sh helm` builds Helm (pinned in helm/go.mod) into ${KOVA_CACHE:-~/.cache/kova}/helm-<version>/bin.
# Prints the bin directory on stdout's last line; progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
cache=${KOVA_CACHE:-$HOME/.cache/kova}
if [ "${1:-}" = helm ]; then
  HELM_VERSION=$(sed -n 's#^\s*helm.sh/helm/v4 \(v[0-9.]*\).*#\1#p' "$here/helm/go.mod" | head -1)
  hbin="$cache/helm-$HELM_VERSION/bin"
  mkdir -p "$hbin"
  if [ ! -x "$hbin/helm" ]; then
    echo "kova: building helm $HELM_VERSION (once; cached in $hbin)" >&2
    (cd "$here/helm" && go build -trimpath -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" -o "$hbin/helm.partial" helm.sh/helm/v4/cmd/helm)
    mv "$hbin/helm.partial" "$hbin/helm"
  fi
  echo "$hbin"
  exit 0
fi
K8S_VERSION=$(sed -n 's#^\s*k8s.io/kubernetes \(v[0-9.]*\).*#\1#p' "$here/go.mod" | head -1)
ETCD_VERSION=$(sed -n 's#^\s*go.etcd.io/etcd/server/v3 \(v[0-9.]*\).*#\1#p' "$here/go.mod" | head -1)
bin="$cache/k8s-$K8S_VERSION-etcd-$ETCD_VERSION/bin"
mkdir -p "$bin"
minor=$(echo "$K8S_VERSION" | cut -d. -f2)
ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 -X k8s.io/client-go/pkg/version.gitMinor=$minor"
build() { # name package
  local name=$1 pkg=$2
  if [ -x "$bin/$name" ]; then return; fi
  echo "kova: building $name from $pkg (once; cached in $bin)" >&2
  local start=$SECONDS
  (cd "$here" && go build -trimpath -ldflags "$ldflags" -o "$bin/$name.partial" "$pkg")
  mv "$bin/$name.partial" "$bin/$name"
  echo "kova: built $name in $((SECONDS - start))s" >&2
}
build etcd go.etcd.io/etcd/server/v3
build kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager
build kube-scheduler k8s.io/kubernetes/cmd/kube-scheduler
build kubectl k8s.io/kubernetes/cmd/kubectl
echo "$bin"
