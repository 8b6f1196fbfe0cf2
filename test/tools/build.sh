#!/usr/bin/env bash
# Builds Kova's test/dev control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl) from the Go modules pinned in this folder's go.mod.
# Output: ${KOVA_CACHE:-~/.cache/kova}/k8s-<version>/bin. A binary already there is reused.
# `build.sh helm` builds Helm (pinned in helm/go.mod) into ${KOVA_CACHE:-~/.cache/kova}/helm-<version>/bin.
# `build.sh terraform` builds OpenTofu (pinned in opentofu/go.mod, a wrapper module carrying
# OpenTofu's replace directive) and the OpenStack provider (pinned in openstack-provider/go.mod) into
# ${KOVA_CACHE:-~/.cache/kova}/opentofu-<version>-openstack-<version>/bin (tofu and
# terraform-provider-openstack_v<version>).
# `build.sh kubevirt-crds` generates KubeVirt's and CDI's CRDs (pinned in kubevirt/go.mod and
# cdi/go.mod) with virt-operator's and cdi-operator's own code into
# ${KOVA_CACHE:-~/.cache/kova}/kubevirt-<version>-cdi-<version>/crds; `build.sh kubevirt` also builds
# virt-controller, virt-api and cdi-controller into …/bin (the CRDs first: a caller that needs only
# them does not wait for the binaries), and writes what virt-operator would install (RBAC, webhook
# configurations, API services) into …/install.
# Prints the bin directory (helm, Kubernetes) or the kubevirt-…-cdi-… directory on stdout's last
# line; progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
cache=${KOVA_CACHE:-$HOME/.cache/kova}
if [ "${1:-}" = kubevirt ] || [ "${1:-}" = kubevirt-crds ]; then
  # Modules the proxy serves but the checksum database does not know (go.sum still pins them).
  export GONOSUMDB=kubevirt.io/virt-template-api,kubevirt.io/virt-template-client-go,kubevirt.io/virt-template-engine,github.com/rhobs/operator-observability-toolkit,github.com/openshift/library-go
  KV_VERSION=$(sed -n 's#^\s*kubevirt.io/kubevirt \(v[0-9.]*\).*#\1#p' "$here/kubevirt/go.mod" | head -1)
  CDI_VERSION=$(sed -n 's#^\s*kubevirt.io/containerized-data-importer \(v[0-9.]*\).*#\1#p' "$here/cdi/go.mod" | head -1)
  out="$cache/kubevirt-$KV_VERSION-cdi-$CDI_VERSION"
  mkdir -p "$out/bin"
  needgo() { command -v go >/dev/null || { echo "kova: Go (≥ 1.26) is needed to build KubeVirt's CRDs and binaries: go not found" >&2; exit 1; }; }
  if [ ! -d "$out/crds" ]; then
    needgo
    echo "kova: generating KubeVirt $KV_VERSION and CDI $CDI_VERSION CRDs (once; cached in $out/crds)" >&2
    start=$SECONDS
    gen="$out/gen.$$" partial="$out/crds.partial.$$"
    trap 'rm -rf "$gen" "$partial"' EXIT
    mkdir -p "$gen"
    (cd "$here/kubevirt" && go build -trimpath -ldflags "-s -w" -o "$gen/kubevirt-gencrds" ./gencrds)
    (cd "$here/cdi" && go build -trimpath -ldflags "-s -w" -o "$gen/cdi-gencrds" ./gencrds)
    # The generators log virt-operator's warnings (no Prometheus, …); shown only when they fail.
    "$gen/kubevirt-gencrds" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
    "$gen/cdi-gencrds" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
    # Another build may have finished first: keep its folder then.
    mv -T "$partial" "$out/crds" 2>/dev/null || true
    echo "kova: generated $(ls "$out/crds" | wc -l) CRDs in $((SECONDS - start))s" >&2
  fi
  if [ "$1" = kubevirt ] && [ ! -d "$out/install" ]; then
    needgo
    echo "kova: generating what virt-operator installs (RBAC, webhook configurations, API services; once; cached in $out/install)" >&2
    gen="$out/gen.$$" partial="$out/install.partial.$$"
    trap 'rm -rf "$gen" "$partial"' EXIT
    mkdir -p "$gen"
    (cd "$here/kubevirt" && go build -trimpath -ldflags "-s -w" -o "$gen/geninstall" ./geninstall)
    "$gen/geninstall" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
    mv -T "$partial" "$out/install" 2>/dev/null || true
  fi
  if [ "$1" = kubevirt ]; then
    kbuild() { # module name package version-package version
      local module=$1 name=$2 pkg=$3 vpkg=$4 version=$5
      if [ -x "$out/bin/$name" ]; then return; fi
      needgo
      echo "kova: building $name from $pkg (once; cached in $out/bin)" >&2
      local start=$SECONDS
      (cd "$here/$module" && go build -trimpath -ldflags "-s -w -X $vpkg.gitVersion=$version -X $vpkg.gitTreeState=clean" -o "$out/bin/$name.partial.$$" "$pkg")
      mv "$out/bin/$name.partial.$$" "$out/bin/$name"
      echo "kova: built $name in $((SECONDS - start))s" >&2
    }
    kbuild kubevirt virt-controller kubevirt.io/kubevirt/cmd/virt-controller kubevirt.io/client-go/version "$KV_VERSION"
    kbuild kubevirt virt-api kubevirt.io/kubevirt/cmd/virt-api kubevirt.io/client-go/version "$KV_VERSION"
    kbuild cdi cdi-controller kubevirt.io/containerized-data-importer/cmd/cdi-controller kubevirt.io/containerized-data-importer/pkg/version "$CDI_VERSION"
  fi
  echo "$out"
  exit 0
fi
if [ "${1:-}" = terraform ]; then
  TOFU_VERSION=$(sed -n 's#^\s*github.com/opentofu/opentofu \(v[0-9.]*\).*#\1#p' "$here/opentofu/go.mod" | head -1)
  OS_VERSION=$(sed -n 's#^\s*github.com/terraform-provider-openstack/terraform-provider-openstack/v3 \(v[0-9.]*\).*#\1#p' "$here/openstack-provider/go.mod" | head -1)
  tbin="$cache/opentofu-$TOFU_VERSION-openstack-$OS_VERSION/bin"
  mkdir -p "$tbin"
  tbuild() { # module name package ldflags
    local module=$1 name=$2 pkg=$3 ldflags=$4
    if [ -x "$tbin/$name" ]; then return; fi
    command -v go >/dev/null || { echo "kova: Go (≥ 1.26) is needed to build $name: go not found" >&2; exit 1; }
    echo "kova: building $name from $pkg (once; cached in $tbin)" >&2
    local start=$SECONDS
    (cd "$here/$module" && go build -trimpath -ldflags "-s -w $ldflags" -o "$tbin/$name.partial.$$" "$pkg")
    mv "$tbin/$name.partial.$$" "$tbin/$name"
    echo "kova: built $name in $((SECONDS - start))s" >&2
  }
  tbuild opentofu tofu github.com/opentofu/opentofu/cmd/tofu "-X github.com/opentofu/opentofu/version.dev=no"
  # The file name tofu expects of a provider binary in a filesystem mirror: terraform-provider-<type>_v<version>.
  tbuild openstack-provider "terraform-provider-openstack_$OS_VERSION" github.com/terraform-provider-openstack/terraform-provider-openstack/v3 "-X github.com/terraform-provider-openstack/terraform-provider-openstack/v3/openstack.version=${OS_VERSION#v}"
  echo "$tbin"
  exit 0
fi
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
