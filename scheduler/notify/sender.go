package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/scheduler"
)

// Options configure a Sender.
type Options struct {
	Outbox    scheduler.Outbox
	Receivers []Receiver
	// Instance names this sender in claims: the scheduler's instance.
	Instance string
	// Client sends the requests (wrap its transport for the wire trace);
	// each request also gets its receiver's timeout as a deadline.
	Client *http.Client
	Log    *zap.Logger
	// ConsoleURL is the console's base URL, for links in payloads.
	ConsoleURL string
	// PollInterval is how often the outbox is read; 1s if 0.
	PollInterval time.Duration
	// Batch is how many notifications one poll claims; 16 if 0.
	Batch int
	// StoreTimeout bounds each outbox call; 5s if 0.
	StoreTimeout time.Duration
	// BaseBackoff is the wait after a first failed attempt, doubled after
	// each further one up to MaxBackoff (1s and 5m if 0), ±20% jitter.
	BaseBackoff, MaxBackoff time.Duration
	// Now is the clock; time.Now if nil.
	Now func() time.Time
	// Beat, if set, is called every poll (the watchdog's heartbeat).
	Beat func()
	// Runs, if set, is read every SLAInterval (10s if 0) for tasks past
	// their SLA (scheduler.SLAMisses), whose sla_miss notifications are
	// then added to the outbox.
	Runs        RunLister
	SLAInterval time.Duration
}

// RunLister is the part of scheduler.Store the SLA check reads.
type RunLister interface {
	ListRuns(ctx context.Context, f scheduler.RunFilter) ([]scheduler.Run, error)
	ListTaskInstances(ctx context.Context, f scheduler.TaskFilter) ([]scheduler.TaskInstance, error)
}

// Sender delivers pending notifications until its context ends.
type Sender struct {
	opts      Options
	receivers map[string]Receiver
	secrets   []string

	mu      sync.Mutex
	counts  map[CountKey]int64
	pending int
}

// CountKey labels vigil_notifications_total: a receiver, an event and
// the result of an attempt (sent, retry, given_up).
type CountKey struct{ Receiver, Event, Result string }

// New returns a Sender.
func New(opts Options) *Sender {
	if opts.PollInterval <= 0 {
		opts.PollInterval = time.Second
	}
	if opts.Batch <= 0 {
		opts.Batch = 16
	}
	if opts.StoreTimeout <= 0 {
		opts.StoreTimeout = 5 * time.Second
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.SLAInterval <= 0 {
		opts.SLAInterval = 10 * time.Second
	}
	if opts.Log == nil {
		opts.Log = zap.NewNop()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	s := &Sender{opts: opts, receivers: map[string]Receiver{}, counts: map[CountKey]int64{}, pending: -1}
	for _, r := range opts.Receivers {
		s.receivers[r.Name] = r
		s.secrets = append(s.secrets, r.Secrets()...)
	}
	return s
}

// Counts returns the attempts made so far by receiver, event and result.
func (s *Sender) Counts() map[CountKey]int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[CountKey]int64, len(s.counts))
	for k, v := range s.counts {
		out[k] = v
	}
	return out
}

// Pending returns the pending notifications as of the last poll, or -1
// before the first.
func (s *Sender) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Run delivers notifications until ctx ends, then returns nil.
func (s *Sender) Run(ctx context.Context) error {
	t := time.NewTicker(s.opts.PollInterval)
	defer t.Stop()
	var nextSLA time.Time
	for {
		if s.opts.Runs != nil && !s.opts.Now().Before(nextSLA) {
			s.checkSLA(ctx)
			nextSLA = s.opts.Now().Add(s.opts.SLAInterval)
		}
		s.poll(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// checkSLA adds the sla_miss notifications of the running runs' tasks
// past their SLA. It reads every running run, not only this scheduler's:
// the store keeps one per instance and receiver, so it is told once
// however many schedulers see it, and even if the run's owner is down.
func (s *Sender) checkSLA(ctx context.Context) {
	cctx, cancel := context.WithTimeout(ctx, s.opts.StoreTimeout)
	runs, err := s.opts.Runs.ListRuns(cctx, scheduler.RunFilter{States: []scheduler.RunState{scheduler.RunRunning}})
	cancel()
	if err != nil {
		s.opts.Log.Warn("SLA check: list running runs", zap.Error(err))
		return
	}
	now := s.opts.Now()
	for _, run := range runs {
		cctx, cancel := context.WithTimeout(ctx, s.opts.StoreTimeout)
		tis, err := s.opts.Runs.ListTaskInstances(cctx, scheduler.TaskFilter{DAGID: run.DAGID, RunID: run.RunID})
		cancel()
		if err != nil {
			s.opts.Log.Warn("SLA check: list a run's tasks", zap.String("dag", run.DAGID), zap.String("run", run.RunID), zap.Error(err))
			continue
		}
		due := scheduler.SLAMisses(run, tis, now)
		if len(due) == 0 {
			continue
		}
		cctx, cancel = context.WithTimeout(ctx, s.opts.StoreTimeout)
		added, err := s.opts.Outbox.AddNotifications(cctx, due)
		cancel()
		if err != nil {
			s.opts.Log.Warn("SLA check: store the misses", zap.String("dag", run.DAGID), zap.String("run", run.RunID), zap.Error(err))
			continue
		}
		if added > 0 {
			s.opts.Log.Info("tasks past their SLA", zap.String("dag", run.DAGID), zap.String("run", run.RunID), zap.Int("notifications", added))
		}
	}
}

// lease is how long a claim holds a notification: past every deadline of
// its one attempt, so that only a dead sender loses it.
func (s *Sender) lease() time.Duration {
	var longest time.Duration
	for _, r := range s.receivers {
		longest = max(longest, r.Timeout)
	}
	return 2*longest + 2*s.opts.StoreTimeout
}

// poll claims what is due and tries each, concurrently, once; again while
// a claim comes back full.
func (s *Sender) poll(ctx context.Context) {
	for s.pollOnce(ctx) == s.opts.Batch && ctx.Err() == nil {
	}
}

// pollOnce claims one batch, tries it and returns how many it claimed.
func (s *Sender) pollOnce(ctx context.Context) int {
	if s.opts.Beat != nil {
		s.opts.Beat()
	}
	cctx, cancel := context.WithTimeout(ctx, s.opts.StoreTimeout)
	n, err := s.opts.Outbox.PendingNotifications(cctx)
	cancel()
	if err == nil {
		s.mu.Lock()
		s.pending = n
		s.mu.Unlock()
	}
	if err != nil || n == 0 {
		return 0
	}
	cctx, cancel = context.WithTimeout(ctx, s.opts.StoreTimeout)
	claimed, err := s.opts.Outbox.ClaimNotifications(cctx, s.opts.Instance, s.opts.Now(), s.lease(), s.opts.Batch)
	cancel()
	if err != nil {
		s.opts.Log.Warn("claim notifications", zap.Error(err))
		return 0
	}
	var wg sync.WaitGroup
	for _, n := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.attempt(ctx, n)
		}()
	}
	wg.Wait()
	return len(claimed)
}

// attempt tries n once and records the outcome.
func (s *Sender) attempt(ctx context.Context, n scheduler.Notification) {
	r, ok := s.receivers[n.Receiver]
	n.Attempts++
	var code int
	var err error
	if !ok {
		// Its DAG was loaded under a config that had it; this one has not.
		err = fmt.Errorf("receiver %q is not in this scheduler's config", n.Receiver)
	} else {
		code, err = s.post(ctx, r, n)
	}
	now := s.opts.Now()
	n.StatusCode, n.UpdatedAt = code, now
	result := "sent"
	switch {
	case err == nil:
		n.State, n.Error = scheduler.NotificationSent, ""
	case !ok || n.Attempts >= r.MaxAttempts:
		n.State, n.Error, result = scheduler.NotificationGivenUp, s.redact(err.Error()), "given_up"
	default:
		n.Error, result = s.redact(err.Error()), "retry"
		n.NextAt = now.Add(s.backoff(n.Attempts))
	}
	s.mu.Lock()
	s.counts[CountKey{n.Receiver, string(n.Event), result}]++
	s.mu.Unlock()
	log := s.opts.Log.With(zap.Int64("notification", n.ID), zap.String("receiver", n.Receiver),
		zap.String("event", string(n.Event)), zap.Stringer("task", n.Key), zap.Int("attempt", n.Attempts))
	switch result {
	case "sent":
		log.Info("notification sent", zap.Int("status", code))
	case "retry":
		log.Warn("notification not delivered; will retry", zap.String("error", n.Error), zap.Time("next", n.NextAt))
	default:
		log.Error("notification given up", zap.String("error", n.Error))
	}
	// The record outlives a cancelled ctx: the attempt was made.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.opts.StoreTimeout)
	defer cancel()
	if err := s.opts.Outbox.FinishAttempt(cctx, s.opts.Instance, n); err != nil {
		log.Warn("record notification attempt", zap.Error(err))
	}
}

// backoff is the wait after the attempt-th failed attempt.
func (s *Sender) backoff(attempt int) time.Duration {
	d := s.opts.BaseBackoff
	for i := 1; i < attempt && d < s.opts.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opts.MaxBackoff)
	// ±20%, so that senders retrying one receiver spread out.
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// post sends n to r, bounded by r.Timeout. A 2xx is success. The error
// names the receiver, never its URL.
func (s *Sender) post(ctx context.Context, r Receiver, n scheduler.Notification) (int, error) {
	target, b, err := body(r, n, s.opts.ConsoleURL)
	if err != nil {
		return 0, fmt.Errorf("encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(b))
	if err != nil {
		return 0, fmt.Errorf("receiver %s: make request: %w", r.Name, unwrapURL(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigil-notify")
	for k, v := range r.Headers {
		req.Header.Set(k, v)
	}
	if r.Token != "" {
		req.Header.Set("Authorization", "Bearer "+r.Token)
	}
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
			return 0, fmt.Errorf("receiver %s: no answer within %s", r.Name, r.Timeout)
		}
		return 0, fmt.Errorf("receiver %s: %w", r.Name, unwrapURL(err))
	}
	defer resp.Body.Close()
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return resp.StatusCode, fmt.Errorf("receiver %s: %s: %s", r.Name, resp.Status, strings.TrimSpace(string(snippet)))
	}
	return resp.StatusCode, nil
}

// unwrapURL drops the URL a *url.Error carries: it may be the secret.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// redact replaces every secret in msg (a receiver's answer may echo its
// URL) with REDACTED.
func (s *Sender) redact(msg string) string {
	for _, sec := range s.secrets {
		if len(sec) >= 4 {
			msg = strings.ReplaceAll(msg, sec, "REDACTED")
		}
	}
	return msg
}
