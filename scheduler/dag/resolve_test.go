package dag

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

const specDAG = `
id: spec
defaults:
  retries: 2
  retry_delay: 10s
  execution_timeout: 1h
  resources: {preset: small, memory_limit: 8Gi}
tasks:
  - id: plain
    command: [echo, plain]
  - id: custom
    depends_on: [plain]
    command: [echo, custom]
    env: {A: "1"}
    image: busybox:1.36
    retries: 0
    retry_exponential: true
    max_retry_delay: 1m
    resources: {preset: large, cpu: 3, ephemeral_disk: 1Gi}
  - id: fields_only
    depends_on: [plain]
    command: [echo]
    resources: {cpu_limit: 1}
`

func TestSpec(t *testing.T) {
	d, err := Parse("spec.yaml", []byte(specDAG), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		task string
		want TaskSpec
	}{
		{"plain", TaskSpec{
			Command: []string{"echo", "plain"}, Retries: 2, RetryDelay: 10 * time.Second,
			MaxRetryDelay: 10 * time.Minute, ExecutionTimeout: time.Hour,
			// The small preset, then the defaults' own field.
			Resources: Resources{Preset: "small", CPU: "250m", Memory: "256Mi", MemoryLimit: "8Gi"},
		}},
		{"custom", TaskSpec{
			DependsOn: []string{"plain"}, Command: []string{"echo", "custom"},
			Env: []EnvVar{{"A", "1"}}, Image: "busybox:1.36",
			Retries: 0, RetryDelay: 10 * time.Second, RetryExponential: true,
			MaxRetryDelay: time.Minute, ExecutionTimeout: time.Hour,
			// The task names its own preset, so the defaults' memory_limit
			// (a customisation of the default preset) does not apply; the
			// task's fields win over its preset.
			Resources: Resources{Preset: "large", CPU: "3", Memory: "4Gi", EphemeralDisk: "1Gi"},
		}},
		{"fields_only", TaskSpec{
			DependsOn: []string{"plain"}, Command: []string{"echo"}, Retries: 2, RetryDelay: 10 * time.Second,
			MaxRetryDelay: 10 * time.Minute, ExecutionTimeout: time.Hour,
			Resources: Resources{Preset: "small", CPU: "250m", Memory: "256Mi", CPULimit: "1", MemoryLimit: "8Gi"},
		}},
	} {
		t.Run(tt.task, func(t *testing.T) {
			got, err := d.Spec(tt.task, DefaultPresets())
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Spec:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSpecsAllTasks(t *testing.T) {
	d, err := Parse("spec.yaml", []byte(specDAG), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	specs, err := d.Specs(DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 3 || specs["custom"].Resources.MemoryLimit != "" || specs["plain"].Resources.MemoryLimit != "8Gi" {
		t.Errorf("Specs = %+v", specs)
	}
	// A spec is a copy: changing it leaves the DAG alone.
	specs["custom"].Command[0] = "changed"
	if d.Task("custom").Command[0] != "echo" {
		t.Error("changing a spec changed the DAG")
	}
}

func TestSpecErrors(t *testing.T) {
	d, err := Parse("spec.yaml", []byte(specDAG), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Spec("nope", DefaultPresets()); err == nil || !strings.Contains(err.Error(), `has no task "nope"`) {
		t.Errorf("Spec of an unknown task: %v", err)
	}
	// Presets change after the DAG was parsed: the config was edited.
	_, err = d.Specs(Presets{"small": {CPU: "1"}})
	if err == nil || !strings.Contains(err.Error(), `unknown preset "large" (known: small)`) {
		t.Errorf("Specs with a preset gone: %v", err)
	}
	_, err = d.Spec("plain", Presets{"small": {CPU: "lots"}})
	if err == nil || !strings.Contains(err.Error(), `preset "small": cpu: "lots" is not a quantity`) {
		t.Errorf("Spec with a bad preset: %v", err)
	}
}

func TestSpecCanonicalisesPresets(t *testing.T) {
	d, err := Parse("t.yaml", []byte("id: x\ndefaults: {resources: {preset: p}}\n"+oneTask), Presets{"p": {CPU: "1000m", Memory: "1024Mi"}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.Spec("a", Presets{"p": {CPU: "1000m", Memory: "1024Mi"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := (Resources{Preset: "p", CPU: "1", Memory: "1Gi"}); s.Resources != want {
		t.Errorf("Resources = %+v, want %+v", s.Resources, want)
	}
}

func TestTaskAndDownstream(t *testing.T) {
	d, err := Parse("spec.yaml", []byte(specDAG), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Task("custom"); got == nil || got.ID != "custom" {
		t.Errorf("Task(custom) = %+v", got)
	}
	if got := d.Task("nope"); got != nil {
		t.Errorf("Task(nope) = %+v, want nil", got)
	}
	want := map[string][]string{"plain": {"custom", "fields_only"}, "custom": nil, "fields_only": nil}
	if got := d.Downstream(); !reflect.DeepEqual(got, want) {
		t.Errorf("Downstream = %v, want %v", got, want)
	}
}

func TestEncodeSpecRoundTrip(t *testing.T) {
	d, err := Parse("spec.yaml", []byte(specDAG), DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	specs, err := d.Specs(DefaultPresets())
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range specs {
		t.Run(id, func(t *testing.T) {
			b, err := EncodeSpec(s)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeSpec(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, s) {
				t.Errorf("DecodeSpec(EncodeSpec(s)):\n got %+v\nwant %+v\nstored: %s", back, s, b)
			}
		})
	}
}

func TestDecodeSpecErrors(t *testing.T) {
	for _, tt := range []struct {
		name, stored, want string
	}{
		{"unknown version", `{"v":2,"command":["x"]}`, "encoding version 2 is not known to this build (it knows 1); upgrade vigil"},
		{"no version", `{"command":["x"]}`, "encoding version 0 is not known"},
		{"bad duration", `{"v":1,"retry_delay":"soon","resources":{}}`, "retry_delay"},
		{"not json", `v1`, "decode task spec"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSpec([]byte(tt.stored))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("DecodeSpec(%s) = %v, want an error containing %q", tt.stored, err, tt.want)
			}
		})
	}
}

func TestDecodeSpecIgnoresUnknownFields(t *testing.T) {
	s, err := DecodeSpec([]byte(`{"v":1,"command":["x"],"added_later":true,"resources":{"cpu":"1","gpu":"1"}}`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Command, []string{"x"}) || s.Resources.CPU != "1" {
		t.Errorf("DecodeSpec = %+v", s)
	}
}

func TestPresets(t *testing.T) {
	if err := DefaultPresets().Validate(); err != nil {
		t.Errorf("DefaultPresets().Validate() = %v", err)
	}
	for _, tt := range []struct {
		name    string
		presets Presets
		want    string
	}{
		{"nested preset", Presets{"x": {Preset: "small"}}, `preset "x" sets preset "small"; a preset cannot name another preset`},
		{"bad quantity", Presets{"x": {Memory: "1 GB"}}, `preset "x": memory: "1 GB" is not a quantity`},
		{"negative", Presets{"x": {CPU: "-1"}}, `preset "x": cpu: "-1" is negative`},
		{"limit below request", Presets{"x": {CPU: "2", CPULimit: "1"}}, `preset "x": cpu_limit 1 is below cpu 2`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.presets.Validate()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestTaskSpecJSONRedactsEnv: the shown form of a spec keeps the names of
// its environment variables and withholds their values, and the stored
// form keeps them (issue 16).
func TestTaskSpecJSONRedactsEnv(t *testing.T) {
	const secret = "pg-password-4d1c"
	s := TaskSpec{Command: []string{"sh"}, Env: []EnvVar{{Name: "DB_PASSWORD", Value: secret}, {Name: "MODE", Value: "fast-mode-x"}}}
	shown, err := json.Marshal(struct {
		Spec TaskSpec `json:"spec"`
	}{s})
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{secret, "fast-mode-x"} {
		if strings.Contains(string(shown), leak) {
			t.Errorf("shown spec %s leaks %q", shown, leak)
		}
	}
	if !strings.Contains(string(shown), `{"Name":"DB_PASSWORD","Value":"REDACTED"}`) || !strings.Contains(string(shown), `"Command":["sh"]`) {
		t.Errorf("shown spec %s: want every field, env names kept and values redacted", shown)
	}
	if s.Env[0].Value != secret {
		t.Error("MarshalJSON modified its receiver")
	}
	stored, err := EncodeSpec(s)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeSpec(stored)
	if err != nil || !reflect.DeepEqual(back.Env, s.Env) {
		t.Errorf("stored spec lost the env values: %+v, %v", back.Env, err)
	}
}
