package deploy

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

var update = flag.Bool("update", false, "rewrite alerts/prometheusrule.yaml from alerts/vigil-rules.yaml")

const (
	rulesFile          = "alerts/vigil-rules.yaml"
	prometheusRuleFile = "alerts/prometheusrule.yaml"
)

// prometheusRule is the Prometheus operator's object for the rules file:
// the same groups under spec.
func prometheusRule(groups any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# Generated from vigil-rules.yaml by `go test ./deploy -run TestPrometheusRule -update`; do not edit.\n" +
		"# For the Prometheus operator: kubectl apply -f deploy/alerts/prometheusrule.yaml (its ruleSelector\n" +
		"# must match the labels below; add yours with a kustomize patch). Not in the base kustomization:\n" +
		"# clusters without the operator have no PrometheusRule kind.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	err := enc.Encode(map[string]any{
		"apiVersion": "monitoring.coreos.com/v1",
		"kind":       "PrometheusRule",
		"metadata": map[string]any{
			"name":      "vigil",
			"namespace": "vigil",
			"labels":    map[string]string{"app.kubernetes.io/name": "vigil", "role": "alert-rules"},
		},
		"spec": map[string]any{"groups": groups},
	})
	return b.Bytes(), err
}

// TestPrometheusRule: prometheusrule.yaml holds exactly the groups of
// vigil-rules.yaml.
func TestPrometheusRule(t *testing.T) {
	var rules struct {
		Groups []any `yaml:"groups"`
	}
	data, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, &rules); err != nil {
		t.Fatalf("%s: %v", rulesFile, err)
	}
	want, err := prometheusRule(rules.Groups)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile(prometheusRuleFile, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(prometheusRuleFile)
	if err != nil {
		t.Fatal(err)
	}
	var g, w struct {
		Spec struct {
			Groups []any `yaml:"groups"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v", prometheusRuleFile, err)
	}
	_ = yaml.Unmarshal(want, &w)
	if !reflect.DeepEqual(g.Spec.Groups, w.Spec.Groups) || !bytes.Equal(got, want) {
		t.Fatalf("%s differs from %s: run `go test ./deploy -run TestPrometheusRule -update`", prometheusRuleFile, rulesFile)
	}
}

// TestAlertRules runs promtool (PROMTOOL, built by testenv/kube/setup.sh)
// on the rules: `check rules` (syntax, PromQL) and `test rules` on the
// hand-written tests in alerts/*_test.yaml (thresholds, for: durations,
// and that a healthy scheduler's series fire nothing).
func TestAlertRules(t *testing.T) {
	promtool := os.Getenv("PROMTOOL")
	if promtool == "" {
		t.Skip("PROMTOOL is not set: run under `make test` (testenv/kube/setup.sh builds promtool)")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, promtool, "check", "rules", rulesFile).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	tests, err := filepath.Glob("alerts/*_test.yaml")
	if err != nil || len(tests) == 0 {
		t.Fatalf("no alerts/*_test.yaml (%v)", err)
	}
	dir := t.TempDir()
	labelsOnly, err := LabelsOnlyRules(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"vigil-rules-labels.yaml": labelsOnly}
	for _, f := range append(tests, rulesFile) {
		if files[filepath.Base(f)], err = os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
	var args []string
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(name, "_test.yaml") {
			args = append(args, name)
		}
	}
	sort.Strings(args)
	cmd := exec.CommandContext(ctx, promtool, append([]string{"test", "rules"}, args...)...)
	cmd.Dir = dir
	out, err = cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool test rules %v: %v\n%s", args, err, out)
	}
	t.Logf("promtool test rules %v:\n%s", args, out)
}
