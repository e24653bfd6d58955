#!/usr/bin/env bash
# Build the real-engine toolchain from Go modules (through the Go module proxy) into a cache
# outside the repository, keyed by toolchain/versions.env and this script.
#
#   toolchain/build.sh            build what is missing, print the bin directory (a `pulumi`
#                                 already on PATH is used as it is, as on a user's machine)
#   toolchain/build.sh --print    print the bin directory without building
#
# Cache: ${SOPHIA_TOOLCHAIN_CACHE:-$HOME/.cache/sophia-infra/toolchain}/<key>/bin.
# Go's own caches (GOMODCACHE, GOCACHE) stay where Go keeps them, so a rebuild after a version
# bump reuses every module and object that did not change.
#
# What is built, and from where:
#   pulumi                     github.com/pulumi/pulumi/pkg/v3 (the CLI and engine)
#   pulumi-resource-pulumi-python   the dynamic-provider launcher shipped in sdk/v3
#   pulumi-analyzer-policy-python   the policy-pack launcher shipped in sdk/v3 (older release)
#   kube-apiserver, kube-controller-manager, kube-scheduler, kubectl   k8s.io/kubernetes
#   etcd                       go.etcd.io/etcd/server/v3 (the version Kubernetes tests with)
#   kwok                       sigs.k8s.io/kwok (fake nodes for the real scheduler)
#   crds/                      the External Secrets Operator's SecretStore and ExternalSecret
#                              CRDs, from github.com/external-secrets/external-secrets
# What the module proxy here refuses (403 "This module version is not available") is listed
# in toolchain/README.md with the exact command; nothing is downloaded from anywhere else.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"

key=$(cat "$here/versions.env" "$here/build.sh" | sha256sum | cut -c1-12)
root=${SOPHIA_TOOLCHAIN_CACHE:-$HOME/.cache/sophia-infra/toolchain}/$key
bin=$root/bin

if [[ "${1:-}" == "--print" ]]; then
    echo "$bin"
    exit 0
fi

mkdir -p "$bin" "$root/work" "$root/logs"
export GOFLAGS=-mod=mod
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}
log() { printf '[toolchain] %s\n' "$*" >&2; }

module_dir() { # module@version -> its directory in the module cache
    go mod download -json "$1" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Dir"]) if "Dir" in d else sys.exit(d.get("Error","no Dir"))'
}

timed() { # name command... : run, log its duration, keep its output in logs/
    local name=$1 start=$SECONDS
    shift
    log "building $name"
    if ! "$@" >"$root/logs/$name.log" 2>&1; then
        log "FAILED: $name (see $root/logs/$name.log)"
        tail -n 30 "$root/logs/$name.log" >&2
        return 1
    fi
    log "built $name in $((SECONDS - start)) s"
}

build_pulumi() {
    local src=$root/work/pulumi-pkg
    rm -rf "$src"
    cp -r "$(module_dir "github.com/pulumi/pulumi/pkg/v3@v$PULUMI_VERSION")" "$src"
    chmod -R u+w "$src"
    cd "$src"
    # pkg/go.mod points sdk/v3 at ../sdk (a sibling directory in the repository, absent from
    # the module zip): take the published sdk/v3 that pkg requires instead.
    go mod edit -dropreplace=github.com/pulumi/pulumi/sdk/v3
    local sdk
    sdk=$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/sdk/v3)
    [[ "$sdk" == "v$PULUMI_VERSION" ]] || { echo "pkg requires sdk $sdk, not v$PULUMI_VERSION"; return 1; }
    go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
        -o "$bin/pulumi" ./cmd/pulumi
}

install_launchers() {
    local sdk old
    sdk=$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_VERSION")
    old=$(module_dir "github.com/pulumi/pulumi/sdk/v3@v$PULUMI_POLICY_LAUNCHER_SDK_VERSION")
    install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$bin/"
    install -m 0755 "$old/python/dist/pulumi-analyzer-policy-python" "$bin/"
}

build_kubernetes() {
    # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them by
    # ./staging/...; a wrapper module replaces each by the published k8s.io/* release instead.
    local src=$root/work/kubernetes staging="v0.${KUBERNETES_VERSION#1.}"
    local kdir
    kdir=$(module_dir "k8s.io/kubernetes@v$KUBERNETES_VERSION")
    rm -rf "$src" && mkdir -p "$src/etcd" && cd "$src"
    go mod init sophia-toolchain/kubernetes >/dev/null 2>&1
    go mod edit -go="$(awk '/^go /{print $2}' "$kdir/go.mod")"
    go mod edit -require="k8s.io/kubernetes@v$KUBERNETES_VERSION" \
        -require="go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
    local m
    for m in $(awk '$2 == "=>" && $3 ~ /^\.\/staging/ {print $1}' "$kdir/go.mod"); do
        go mod edit -replace="$m=$m@$staging"
    done
    # etcd's own main package is in a module with local replaces: a two-line main instead.
    printf 'package main\n\nimport (\n\t"os"\n\n\t"go.etcd.io/etcd/server/v3/etcdmain"\n)\n\nfunc main() { etcdmain.Main(os.Args) }\n' >etcd/main.go
    local ver="-X k8s.io/component-base/version.gitVersion=v$KUBERNETES_VERSION"
    ver+=" -X k8s.io/component-base/version.gitMajor=${KUBERNETES_VERSION%%.*}"
    ver+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"$KUBERNETES_VERSION")"
    ver+=" -X k8s.io/client-go/pkg/version.gitVersion=v$KUBERNETES_VERSION"
    local cmd
    for cmd in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
        go build -trimpath -ldflags "-s -w $ver" -o "$bin/$cmd" "k8s.io/kubernetes/cmd/$cmd"
    done
    go build -trimpath -ldflags "-s -w" -o "$bin/etcd" ./etcd
}

build_kwok() {
    GOBIN=$bin go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@v$KWOK_VERSION"
}

fetch_crds() {
    local dir
    dir=$(go mod download -json "github.com/external-secrets/external-secrets@v$EXTERNAL_SECRETS_VERSION" |
        sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    mkdir -p "$root/crds"
    cp "$dir"/config/crds/bases/external-secrets.io_{secretstores,externalsecrets}.yaml "$root/crds/"
}

start=$SECONDS
on_path=$(command -v pulumi || true)
if [[ -n "$on_path" && "$on_path" != "$bin/pulumi" && -z "${SOPHIA_BUILD_PULUMI:-}" ]]; then
    log "using the pulumi CLI on PATH ($on_path, $(pulumi version)); SOPHIA_BUILD_PULUMI=1 builds v$PULUMI_VERSION"
elif [[ ! -x "$bin/pulumi" ]]; then
    timed pulumi build_pulumi
fi
[[ -x "$bin/pulumi-analyzer-policy-python" ]] || timed launchers install_launchers
[[ -x "$bin/etcd" ]] || timed kubernetes build_kubernetes
[[ -x "$bin/kwok" ]] || timed kwok build_kwok
[[ -f "$root/crds/external-secrets.io_externalsecrets.yaml" ]] || timed crds fetch_crds
log "toolchain ready in $((SECONDS - start)) s: $bin"
echo "$bin"
