package dag

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

// TestParseTriggerRule reads every rule, all_success as the default "",
// and checks the canonical encoding leaves the default out, so that DAG
// encodings made before trigger rules existed do not change.
func TestParseTriggerRule(t *testing.T) {
	for _, rule := range TriggerRules {
		t.Run(string(rule), func(t *testing.T) {
			src := "id: x\ntasks:\n  - {id: a, command: [echo]}\n  - {id: b, depends_on: [a], trigger_rule: " + string(rule) + ", command: [echo]}\n"
			d, err := Parse("t.yaml", []byte(src), nil)
			if err != nil {
				t.Fatal(err)
			}
			want := rule
			if rule == AllSuccess {
				want = ""
			}
			if got := d.Tasks[1].TriggerRule; got != want {
				t.Errorf("TriggerRule = %q, want %q", got, want)
			}
			enc, err := Encode(d)
			if err != nil {
				t.Fatal(err)
			}
			if has := bytes.Contains(enc, []byte("trigger_rule")); has != (rule != AllSuccess) {
				t.Errorf("encoding mentions trigger_rule: %v, want %v:\n%s", has, rule != AllSuccess, enc)
			}
			checkRoundTrip(t, []byte(src))
			spec, err := d.Spec("b", nil)
			if err != nil {
				t.Fatal(err)
			}
			if spec.TriggerRule != want || spec.TriggerRule.Effective() != rule {
				t.Errorf("Spec TriggerRule = %q (effective %q), want %q", spec.TriggerRule, spec.TriggerRule.Effective(), rule)
			}
			stored, err := EncodeSpec(spec)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeSpec(stored)
			if err != nil || !reflect.DeepEqual(back, spec) {
				t.Errorf("DecodeSpec(EncodeSpec) = %+v, %v; want %+v", back, err, spec)
			}
			if has := bytes.Contains(stored, []byte("trigger_rule")); has != (rule != AllSuccess) {
				t.Errorf("stored spec mentions trigger_rule: %v, want %v: %s", has, rule != AllSuccess, stored)
			}
		})
	}
}

func TestParseTriggerRuleErrors(t *testing.T) {
	for _, tt := range []struct {
		name, rule, want string
	}{
		{"misspelt", "all_don", `t.yaml:3:61: task "b": unknown trigger_rule "all_don"; did you mean "all_done"?`},
		{"camel case", "oneFailed", `t.yaml:3:61: task "b": unknown trigger_rule "oneFailed"; did you mean "one_failed"?`},
		{"unknown", "whenever", `t.yaml:3:61: task "b": unknown trigger_rule "whenever"; use one of all_success, all_done, all_failed, one_success, one_failed, none_failed, always`},
		{"not a string", "[all_done]", `t.yaml:3:61: task "b": trigger_rule must be a string, got a list`},
		{"empty", `""`, `t.yaml:3:61: task "b": unknown trigger_rule ""; use one of all_success, all_done, all_failed, one_success, one_failed, none_failed, always`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			src := "id: x\ntasks:\n  - {id: b, command: [echo], depends_on: [a], trigger_rule: " + tt.rule + "}\n  - {id: a, command: [echo]}\n"
			_, err := Parse("t.yaml", []byte(src), nil)
			if err == nil || strings.TrimSpace(err.Error()) != tt.want {
				t.Errorf("Parse error:\n got %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestDecodeSpecUnknownTriggerRule(t *testing.T) {
	_, err := DecodeSpec([]byte(`{"v":1,"command":["x"],"trigger_rule":"some_later_rule","resources":{}}`))
	if err == nil || !strings.Contains(err.Error(), `trigger rule "some_later_rule" is not known to this build; upgrade vigil`) {
		t.Errorf("DecodeSpec = %v, want an unknown trigger rule error", err)
	}
}
