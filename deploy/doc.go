// Package deploy holds the kustomize base and overlays that install Vigil
// into a cluster (base, overlays/dev, overlays/prod, overlays/profiling).
// Its tests render every overlay and have the real apiserver of the test
// environment admit it under Pod Security "restricted". alerts/ holds the
// Prometheus alert rules (vigil-rules.yaml, and the same as a PrometheusRule),
// tested by promtool (alerts_test.go).
package deploy
