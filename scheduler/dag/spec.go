package dag

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// specVersion is the version of the stored TaskSpec encoding. Bump it only
// with a decoder for every older version: a stored task must always decode
// again, by this version and the next (incident 3 in DESIGN.md: a preset
// that ran fine and then failed to serialise).
const specVersion = 1

// storedSpec is the stored form of a TaskSpec. Durations are strings
// ("1m30s") so the stored text is readable in a database shell.
type storedSpec struct {
	V                int      `json:"v"`
	DependsOn        []string `json:"depends_on,omitempty"`
	TriggerRule      string   `json:"trigger_rule,omitempty"`
	Command          []string `json:"command,omitempty"`
	Args             []string `json:"args,omitempty"`
	Env              []EnvVar `json:"env,omitempty"`
	Image            string   `json:"image,omitempty"`
	Retries          int      `json:"retries,omitempty"`
	RetryDelay       string   `json:"retry_delay,omitempty"`
	RetryExponential bool     `json:"retry_exponential,omitempty"`
	MaxRetryDelay    string   `json:"max_retry_delay,omitempty"`
	ExecutionTimeout string   `json:"execution_timeout,omitempty"`
	Pool             string   `json:"pool,omitempty"`
	PoolSlots        int      `json:"pool_slots,omitempty"`
	Priority         int      `json:"priority,omitempty"`
	OnFailure        []string `json:"on_failure,omitempty"`
	OnRetry          []string `json:"on_retry,omitempty"`
	OnSuccess        []string `json:"on_success,omitempty"`
	OnSLAMiss        []string `json:"on_sla_miss,omitempty"`
	SLA              string   `json:"sla,omitempty"`
	Resources        struct {
		Preset        string `json:"preset,omitempty"`
		CPU           string `json:"cpu,omitempty"`
		Memory        string `json:"memory,omitempty"`
		CPULimit      string `json:"cpu_limit,omitempty"`
		MemoryLimit   string `json:"memory_limit,omitempty"`
		EphemeralDisk string `json:"ephemeral_disk,omitempty"`
	} `json:"resources"`
}

// Redacted replaces an environment variable's value wherever a TaskSpec
// is shown rather than stored.
const Redacted = "REDACTED"

// MarshalJSON is the shown form of s (vigil tasks -o json, diagnostic
// bundles, the debug API): every field as Go names it, with each
// environment variable's value replaced by Redacted, names kept. Any value
// may be a password or a token, whatever its name (issue 16). The stored
// form, values included, is EncodeSpec's.
func (s TaskSpec) MarshalJSON() ([]byte, error) {
	type shown TaskSpec // without this method
	v := shown(s)
	if len(s.Env) > 0 {
		v.Env = make([]EnvVar, len(s.Env))
		for i, e := range s.Env {
			v.Env[i] = EnvVar{Name: e.Name, Value: Redacted}
		}
	}
	return json.Marshal(v)
}

// EncodeSpec returns the stored form of s.
func EncodeSpec(s TaskSpec) ([]byte, error) {
	st := storedSpec{
		V:                specVersion,
		DependsOn:        s.DependsOn,
		TriggerRule:      string(s.TriggerRule),
		Command:          s.Command,
		Args:             s.Args,
		Env:              s.Env,
		Image:            s.Image,
		Retries:          s.Retries,
		RetryDelay:       durationText(s.RetryDelay),
		RetryExponential: s.RetryExponential,
		MaxRetryDelay:    durationText(s.MaxRetryDelay),
		ExecutionTimeout: durationText(s.ExecutionTimeout),
		Pool:             s.Pool,
		Priority:         s.Priority,
		OnFailure:        s.Notify.OnFailure,
		OnRetry:          s.Notify.OnRetry,
		OnSuccess:        s.Notify.OnSuccess,
		OnSLAMiss:        s.Notify.OnSLAMiss,
		SLA:              durationText(s.SLA),
	}
	if s.PoolSlots != 0 {
		st.PoolSlots = s.PoolSlots
	}
	r := s.Resources
	st.Resources.Preset, st.Resources.CPU, st.Resources.Memory = r.Preset, r.CPU, r.Memory
	st.Resources.CPULimit, st.Resources.MemoryLimit, st.Resources.EphemeralDisk = r.CPULimit, r.MemoryLimit, r.EphemeralDisk
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("encode task spec: %w", err)
	}
	return b, nil
}

// DecodeSpec reads a stored TaskSpec. Unknown fields are ignored so that a
// spec written by a newer version of the same encoding version still
// decodes; an unknown version is an error.
func DecodeSpec(b []byte) (TaskSpec, error) {
	var st storedSpec
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&st); err != nil {
		return TaskSpec{}, fmt.Errorf("decode task spec: %w", err)
	}
	if st.V != specVersion {
		return TaskSpec{}, fmt.Errorf("decode task spec: encoding version %d is not known to this build (it knows %d); upgrade vigil", st.V, specVersion)
	}
	s := TaskSpec{
		DependsOn:        st.DependsOn,
		TriggerRule:      TriggerRule(st.TriggerRule),
		Command:          st.Command,
		Args:             st.Args,
		Env:              st.Env,
		Image:            st.Image,
		Retries:          st.Retries,
		RetryExponential: st.RetryExponential,
		Pool:             st.Pool,
		PoolSlots:        st.PoolSlots,
		Priority:         st.Priority,
		Notify:           Notify{OnFailure: st.OnFailure, OnRetry: st.OnRetry, OnSuccess: st.OnSuccess, OnSLAMiss: st.OnSLAMiss},
		Resources: Resources{
			Preset: st.Resources.Preset, CPU: st.Resources.CPU, Memory: st.Resources.Memory,
			CPULimit: st.Resources.CPULimit, MemoryLimit: st.Resources.MemoryLimit,
			EphemeralDisk: st.Resources.EphemeralDisk,
		},
	}
	if !s.TriggerRule.Valid() {
		return TaskSpec{}, fmt.Errorf("decode task spec: trigger rule %q is not known to this build; upgrade vigil", st.TriggerRule)
	}
	var err error
	for _, f := range []struct {
		dst  *time.Duration
		text string
		name string
	}{
		{&s.RetryDelay, st.RetryDelay, "retry_delay"},
		{&s.MaxRetryDelay, st.MaxRetryDelay, "max_retry_delay"},
		{&s.ExecutionTimeout, st.ExecutionTimeout, "execution_timeout"},
		{&s.SLA, st.SLA, "sla"},
	} {
		if f.text == "" {
			continue
		}
		if *f.dst, err = time.ParseDuration(f.text); err != nil {
			return TaskSpec{}, fmt.Errorf("decode task spec: %s: %w", f.name, err)
		}
	}
	return s, nil
}

func durationText(d time.Duration) string {
	if d == 0 {
		return ""
	}
	return d.String()
}
