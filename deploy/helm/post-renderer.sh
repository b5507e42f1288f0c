#!/bin/sh
# A Helm post-renderer adding the role mapper to the output of Hasura's chart (hasura/graphql-engine) with
# kustomize: Helm writes the rendered manifests to stdin, this prints them with the sidecar injected.
#
#   helm upgrade --install hasura hasura/graphql-engine -f deploy/helm/values.yaml \
#     --post-renderer deploy/helm/post-renderer.sh --post-renderer-args "$PWD/my-overlay"
#
# The argument is a kustomize Component holding your settings (image, rolemapper-settings, Secrets' names,
# PodDisruptionBudget), shaped like deploy/k8s/examples/helm, which is the default. Needs kubectl 1.27+.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
overlay=$(cd "${1:-$here/../k8s/examples/helm}" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM
cat >"$work/chart.yaml"
# Kustomize refuses absolute paths to components: the two are reached through links in the work directory.
ln -s "$here/graphql-engine" "$work/adapter"
ln -s "$overlay" "$work/overlay"
cat >"$work/kustomization.yaml" <<'KUSTOMIZATION'
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - chart.yaml
components:
  - adapter
  - overlay
KUSTOMIZATION
kubectl kustomize "$work"
