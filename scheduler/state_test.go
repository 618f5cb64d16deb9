package scheduler

import (
	"errors"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

func TestCheckTransition(t *testing.T) {
	allowed := map[[2]State]bool{}
	for from, tos := range legal {
		for _, to := range tos {
			allowed[[2]State{from, to}] = true
		}
	}
	// Every pair of states is either in the table or rejected; terminal
	// states never leave.
	for _, from := range States {
		for _, to := range States {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				err := CheckTransition(from, to)
				if allowed[[2]State{from, to}] {
					if err != nil {
						t.Fatalf("legal transition rejected: %v", err)
					}
					if from.Terminal() {
						t.Fatalf("terminal state %s has an outgoing transition", from)
					}
					return
				}
				if !errors.Is(err, ErrIllegalTransition) {
					t.Fatalf("illegal transition accepted (err %v)", err)
				}
			})
		}
	}
}

func TestApply(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	key := TaskKey{DAGID: "d", RunID: "r", TaskID: "t"}
	spec := dag.TaskSpec{Retries: 2, RetryDelay: 10 * time.Second, RetryExponential: true, MaxRetryDelay: 15 * time.Second}
	code := func(c int) *int { return &c }
	tests := []struct {
		name    string
		ti      TaskInstance
		c       Change
		wantErr error
		check   func(t *testing.T, got TaskInstance, rec Transition)
	}{
		{
			name: "first queue sets try 1",
			ti:   TaskInstance{TaskKey: key, State: StateScheduled, Spec: spec},
			c:    Change{From: StateScheduled, To: StateQueued, Reason: "no dependencies"},
			check: func(t *testing.T, got TaskInstance, rec Transition) {
				if got.Try != 1 || !got.QueuedAt.Equal(at) || rec.Try != 1 || got.Version != 1 {
					t.Errorf("try=%d queued=%v rec.try=%d version=%d", got.Try, got.QueuedAt, rec.Try, got.Version)
				}
			},
		},
		{
			name: "requeue keeps the try number",
			ti:   TaskInstance{TaskKey: key, State: StateQueued, Try: 1, Spec: spec, ExternalID: "x"},
			c:    Change{From: StateQueued, To: StateScheduled, Reason: "submit timed out"},
			check: func(t *testing.T, got TaskInstance, _ Transition) {
				if got.Try != 1 || got.ExternalID != "" || !got.QueuedAt.IsZero() {
					t.Errorf("try=%d external=%q queued=%v", got.Try, got.ExternalID, got.QueuedAt)
				}
			},
		},
		{
			name: "retry increments the try and clears the last try's outcome",
			ti:   TaskInstance{TaskKey: key, State: StateUpForRetry, Try: 1, Spec: spec, ExitCode: code(3), RetryAt: at},
			c:    Change{From: StateUpForRetry, To: StateQueued, Reason: "retry delay elapsed"},
			check: func(t *testing.T, got TaskInstance, _ Transition) {
				if got.Try != 2 || got.ExitCode != nil || !got.RetryAt.IsZero() {
					t.Errorf("try=%d exit=%v retryAt=%v", got.Try, got.ExitCode, got.RetryAt)
				}
			},
		},
		{
			name: "up_for_retry sets retry time with exponential backoff",
			ti:   TaskInstance{TaskKey: key, State: StateRunning, Try: 2, Spec: spec},
			c:    Change{From: StateRunning, To: StateUpForRetry, Reason: "exit code 1", ExitCode: code(1)},
			check: func(t *testing.T, got TaskInstance, rec Transition) {
				// try 2 failed: 10s doubled once = 20s, capped at 15s.
				if !got.RetryAt.Equal(at.Add(15*time.Second)) || *got.ExitCode != 1 || *rec.ExitCode != 1 {
					t.Errorf("retryAt=%v exit=%v", got.RetryAt, got.ExitCode)
				}
			},
		},
		{
			name: "running records start and external id",
			ti:   TaskInstance{TaskKey: key, State: StateQueued, Try: 1, Spec: spec},
			c:    Change{From: StateQueued, To: StateRunning, Reason: "started", ExternalID: "pid:42"},
			check: func(t *testing.T, got TaskInstance, rec Transition) {
				if !got.StartedAt.Equal(at) || got.ExternalID != "pid:42" || rec.ExternalID != "pid:42" {
					t.Errorf("started=%v external=%q", got.StartedAt, got.ExternalID)
				}
			},
		},
		{
			name: "adoption keeps the start time",
			ti:   TaskInstance{TaskKey: key, State: StateRunning, Try: 1, Spec: spec, StartedAt: at.Add(-time.Hour)},
			c:    Change{From: StateRunning, To: StateRunning, Reason: "adopted"},
			check: func(t *testing.T, got TaskInstance, _ Transition) {
				if !got.StartedAt.Equal(at.Add(-time.Hour)) {
					t.Errorf("started=%v", got.StartedAt)
				}
			},
		},
		{
			name: "terminal records the end",
			ti:   TaskInstance{TaskKey: key, State: StateRunning, Try: 1, Spec: spec},
			c:    Change{From: StateRunning, To: StateSuccess, Reason: "exit code 0", ExitCode: code(0)},
			check: func(t *testing.T, got TaskInstance, _ Transition) {
				if !got.EndedAt.Equal(at) {
					t.Errorf("ended=%v", got.EndedAt)
				}
			},
		},
		{
			name:    "stale from is a conflict",
			ti:      TaskInstance{TaskKey: key, State: StateRunning, Try: 1},
			c:       Change{From: StateQueued, To: StateRunning, Reason: "started"},
			wantErr: ErrStateConflict,
		},
		{
			name:    "illegal transition",
			ti:      TaskInstance{TaskKey: key, State: StateSuccess, Try: 1},
			c:       Change{From: StateSuccess, To: StateQueued, Reason: "again"},
			wantErr: ErrIllegalTransition,
		},
		{
			name:    "reason required",
			ti:      TaskInstance{TaskKey: key, State: StateScheduled},
			c:       Change{From: StateScheduled, To: StateQueued},
			wantErr: errAny,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.c.Key, tt.c.At = key, at
			tt.c.Actor = Actor{Component: "test", Instance: "h:1"}
			got, rec, err := Apply(tt.ti, tt.c)
			if tt.wantErr != nil {
				if err == nil || (tt.wantErr != errAny && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("err = %v, want %v", err, tt.wantErr)
				}
				if got.State != tt.ti.State {
					t.Fatalf("state changed on error: %s", got.State)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.State != tt.c.To || rec.From != tt.c.From || rec.To != tt.c.To || rec.Reason != tt.c.Reason || rec.Actor != tt.c.Actor || !rec.At.Equal(at) {
				t.Fatalf("got state %s, record %+v", got.State, rec)
			}
			tt.check(t, got, rec)
		})
	}
}

var errAny = errors.New("any error")

func TestRetryDelay(t *testing.T) {
	tests := []struct {
		name string
		spec dag.TaskSpec
		try  int
		want time.Duration
	}{
		{"fixed", dag.TaskSpec{RetryDelay: 5 * time.Second}, 3, 5 * time.Second},
		{"exponential first", dag.TaskSpec{RetryDelay: 5 * time.Second, RetryExponential: true}, 1, 5 * time.Second},
		{"exponential third", dag.TaskSpec{RetryDelay: 5 * time.Second, RetryExponential: true}, 3, 20 * time.Second},
		{"capped", dag.TaskSpec{RetryDelay: 5 * time.Second, RetryExponential: true, MaxRetryDelay: 12 * time.Second}, 3, 12 * time.Second},
		{"huge try does not overflow", dag.TaskSpec{RetryDelay: time.Second, RetryExponential: true, MaxRetryDelay: time.Hour}, 500, time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RetryDelay(tt.spec, tt.try); got != tt.want {
				t.Fatalf("RetryDelay = %v, want %v", got, tt.want)
			}
		})
	}
}
