package debugapi

import "time"

// HealthReport is the body of GET /heartbeats (and of a process's
// /healthz): the status is 503 when Status is "stale".
type HealthReport struct {
	Status     string            `json:"status"` // "ok", "degraded" (an advisory heartbeat is stale) or "stale"
	Time       time.Time         `json:"time,omitzero"`
	Heartbeats []HeartbeatStatus `json:"heartbeats"`
}

// HeartbeatStatus is a heartbeat as seen at one instant.
type HeartbeatStatus struct {
	Name   string        `json:"name"`
	Period time.Duration `json:"period_ns"`
	// LastBeat is zero if the heartbeat never beat.
	LastBeat time.Time `json:"last_beat,omitzero"`
	// Age is the time since the last beat (or since registration).
	Age   time.Duration `json:"age_ns"`
	Beats int64         `json:"beats"`
	Stale bool          `json:"stale"`
	// Advisory heartbeats are shown but do not fail the liveness probe.
	Advisory bool `json:"advisory,omitempty"`
}
