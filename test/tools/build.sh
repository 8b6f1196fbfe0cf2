#!/usr/bin/env bash
# Builds Kova's test/dev control plane from the Go modules pinned in this folder's go.mod: etcd, and
# one multi-call binary (kube/main.go) that is kube-apiserver, kube-controller-manager,
# kube-scheduler and kubectl by the name it runs as, with those four names symlinked to it; both in
# one go command (docs/adr/024-cold-start.md).
# Output: ${KOVA_CACHE:-~/.cache/kova}/k8s-<version>-etcd-<version>/bin. Reused when all five names
# are there (the older layout's five separate binaries too).
# `build.sh helm` builds Helm (pinned in helm/go.mod) into ${KOVA_CACHE:-~/.cache/kova}/helm-<version>/bin.
# `build.sh terraform` builds OpenTofu (pinned in opentofu/go.mod, a wrapper module carrying
# OpenTofu's replace directive) and the OpenStack provider (pinned in openstack-provider/go.mod) into
# ${KOVA_CACHE:-~/.cache/kova}/opentofu-<version>-openstack-<version>/bin (tofu and
# terraform-provider-openstack_v<version>).
# `build.sh kubevirt-crds` generates KubeVirt's and CDI's CRDs (pinned in kubevirt/go.mod and
# cdi/go.mod) with virt-operator's and cdi-operator's own code into
# ${KOVA_CACHE:-~/.cache/kova}/kubevirt-<version>-cdi-<version>/crds; `build.sh kubevirt` also builds
# virt-controller and virt-api into …/bin and writes what virt-operator would install (RBAC, webhook
# configurations, API services) into …/install; `build.sh kubevirt-full` (CI) adds cdi-controller,
# which nothing runs. The two modules build side by side, each module's missing pieces in one go command.
# Prints the bin directory (helm, Kubernetes) or the kubevirt-…-cdi-… directory on stdout's last
# line; progress goes to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export GOTOOLCHAIN=local GOFLAGS=-mod=mod CGO_ENABLED=0
cache=${KOVA_CACHE:-$HOME/.cache/kova}
if [ "${1:-}" = kubevirt ] || [ "${1:-}" = kubevirt-full ] || [ "${1:-}" = kubevirt-crds ]; then
  mode=$1
  # Modules the proxy serves but the checksum database does not know (go.sum still pins them).
  export GONOSUMDB=kubevirt.io/virt-template-api,kubevirt.io/virt-template-client-go,kubevirt.io/virt-template-engine,github.com/rhobs/operator-observability-toolkit,github.com/openshift/library-go
  KV_VERSION=$(sed -n 's#^\s*kubevirt.io/kubevirt \(v[0-9.]*\).*#\1#p' "$here/kubevirt/go.mod" | head -1)
  CDI_VERSION=$(sed -n 's#^\s*kubevirt.io/containerized-data-importer \(v[0-9.]*\).*#\1#p' "$here/cdi/go.mod" | head -1)
  out="$cache/kubevirt-$KV_VERSION-cdi-$CDI_VERSION"
  mkdir -p "$out/bin"
  kvver="-X kubevirt.io/client-go/version.gitVersion=$KV_VERSION -X kubevirt.io/client-go/version.gitTreeState=clean"
  cdiver="-X kubevirt.io/containerized-data-importer/pkg/version.gitVersion=$CDI_VERSION -X kubevirt.io/containerized-data-importer/pkg/version.gitTreeState=clean"
  # What is missing, per module: the generators (run once, then dropped) and the binaries kept in bin/.
  kv=() cdi=() bins=() gens=()
  if [ ! -d "$out/crds" ]; then kv+=(./gencrds) cdi+=(./gencrds) gens+=(CRDs); fi
  if [ "$mode" != kubevirt-crds ]; then
    [ -d "$out/install" ] || { kv+=(./geninstall) gens+=("install objects"); }
    for name in virt-controller virt-api; do [ -x "$out/bin/$name" ] || { kv+=("kubevirt.io/kubevirt/cmd/$name") bins+=("$name"); }; done
    # cdi-controller is never started (docs/adr/015): built only in the full mode (CI), to know it still builds.
    if [ "$mode" = kubevirt-full ] && [ ! -x "$out/bin/cdi-controller" ]; then cdi+=(kubevirt.io/containerized-data-importer/cmd/cdi-controller) bins+=(cdi-controller); fi
  fi
  if [ ${#kv[@]} -gt 0 ] || [ ${#cdi[@]} -gt 0 ]; then
    command -v go >/dev/null || { echo "kova: Go (≥ 1.26) is needed to build KubeVirt's CRDs and binaries: go not found" >&2; exit 1; }
    echo "kova: building KubeVirt $KV_VERSION and CDI $CDI_VERSION: ${gens[*]:-} ${bins[*]:-} (once; cached in $out)" >&2
    start=$SECONDS
    gen="$out/gen.$$"
    trap 'rm -rf "$gen" "$out"/*.partial.$$' EXIT
    mkdir -p "$gen/kubevirt" "$gen/cdi"
    # The two modules (their own Kubernetes library versions) build side by side: one downloads while
    # the other compiles. Within a module, one go command: shared packages compiled once, links in parallel.
    pids=()
    if [ ${#kv[@]} -gt 0 ]; then (cd "$here/kubevirt" && go build -trimpath -ldflags "-s -w $kvver" -o "$gen/kubevirt/" "${kv[@]}") & pids+=($!); fi
    if [ ${#cdi[@]} -gt 0 ]; then (cd "$here/cdi" && go build -trimpath -ldflags "-s -w $cdiver" -o "$gen/cdi/" "${cdi[@]}") & pids+=($!); fi
    for pid in "${pids[@]}"; do wait "$pid"; done
    echo "kova: built KubeVirt's and CDI's ${gens[*]:+generators }${bins[*]:-} in $((SECONDS - start))s" >&2
    if [ -x "$gen/kubevirt/gencrds" ]; then
      partial="$out/crds.partial.$$"
      # The generators log virt-operator's warnings (no Prometheus, …); shown only when they fail.
      "$gen/kubevirt/gencrds" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
      "$gen/cdi/gencrds" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
      # Another build may have finished first: keep its folder then.
      mv -T "$partial" "$out/crds" 2>/dev/null || true
      echo "kova: generated $(ls "$out/crds" | wc -l) CRDs in $out/crds" >&2
    fi
    if [ -x "$gen/kubevirt/geninstall" ]; then
      partial="$out/install.partial.$$"
      "$gen/kubevirt/geninstall" "$partial" 2>"$gen/log" || { cat "$gen/log" >&2; exit 1; }
      mv -T "$partial" "$out/install" 2>/dev/null || true
      echo "kova: generated what virt-operator installs (RBAC, webhook configurations, API services) in $out/install" >&2
    fi
    for name in "${bins[@]}"; do
      src="$gen/kubevirt/$name"; [ -x "$src" ] || src="$gen/cdi/$name"
      mv "$src" "$out/bin/$name.partial.$$" && mv "$out/bin/$name.partial.$$" "$out/bin/$name"
    done
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
components="kube-apiserver kube-controller-manager kube-scheduler kubectl"
ready=yes
for name in etcd $components; do [ -x "$bin/$name" ] || ready=no; done
# Every name there (the multi-call binary's links, or the separate binaries of an older cache): reused.
if [ $ready = no ]; then
  command -v go >/dev/null || { echo "kova: Go (≥ 1.26) is needed to build the control plane: go not found" >&2; exit 1; }
  echo "kova: building etcd $ETCD_VERSION and Kubernetes $K8S_VERSION (kube-apiserver, kube-controller-manager, kube-scheduler and kubectl as one multi-call binary; once; cached in $bin)" >&2
  start=$SECONDS
  # One go command for both: modules fetched once, shared packages compiled once, the two links in parallel.
  out="$bin/build.$$"
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out"
  (cd "$here" && go build -trimpath -ldflags "$ldflags" -o "$out/" ./kube go.etcd.io/etcd/server/v3)
  # go names a main package ending in a major version (…/server/v3) after the element before it.
  mv "$out/server" "$bin/etcd.partial.$$" && mv "$bin/etcd.partial.$$" "$bin/etcd"
  mv "$out/kube" "$bin/kube.partial.$$" && mv "$bin/kube.partial.$$" "$bin/kube"
  for name in $components; do ln -sfn kube "$bin/$name"; done
  echo "kova: built etcd and kube in $((SECONDS - start))s" >&2
fi
echo "$bin"
