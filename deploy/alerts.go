package deploy

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"go.yaml.in/yaml/v3"
)

// RulesFile returns the path of alerts/vigil-rules.yaml in this source
// tree, for tests in other packages.
func RulesFile() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "alerts", "vigil-rules.yaml")
}

// Alert is one alerting rule of the rules file.
type Alert struct {
	Name       string
	RunbookURL string
}

// Alerts lists the alerting rules of a rules file, in file order.
func Alerts(path string) ([]Alert, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert       string            `yaml:"alert"`
				Annotations map[string]string `yaml:"annotations"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var out []Alert
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			if r.Alert != "" {
				out = append(out, Alert{Name: r.Alert, RunbookURL: r.Annotations["runbook_url"]})
			}
		}
	}
	return out, nil
}

// LabelsOnlyRules returns the rules file with each alert's summary and
// description left out (runbook_url kept): promtool compares every
// annotation of a firing alert, so tests that check which alerts fire
// with which labels run against this; alerts/annotations_test.yaml
// checks the text.
func LabelsOnlyRules(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	groups, _ := doc["groups"].([]any)
	for _, g := range groups {
		gm, _ := g.(map[string]any)
		rules, _ := gm["rules"].([]any)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			if ann, ok := rm["annotations"].(map[string]any); ok {
				delete(ann, "summary")
				delete(ann, "description")
			}
		}
	}
	return yaml.Marshal(doc)
}
