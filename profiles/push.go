package profiles

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/pyroscope-go"
	"go.uber.org/zap"

	"github.com/vigilhq/vigil/diag/redact"
)

// Defaults for PushOptions.
const (
	DefaultService              = "vigil"
	DefaultUploadRate           = 15 * time.Second
	DefaultUploadTimeout        = 10 * time.Second
	DefaultMutexProfileFraction = 10
	DefaultBlockProfileRate     = 100 * time.Microsecond
)

// stopGrace is how long Stop waits after cancelling in-flight uploads for
// pyroscope-go to wind down; with UploadTimeout it makes Stop's bound.
const stopGrace = 500 * time.Millisecond

// ErrNoServerAddress is returned by StartPush when PushOptions has no
// ServerAddress: continuous profiling is off, and a nil *Pusher is the
// value to keep (its methods are no-ops).
var ErrNoServerAddress = errors.New("no pyroscope server address configured")

// DefaultProfileTypes are the profiles a Pusher sends when
// PushOptions.ProfileTypes is empty.
func DefaultProfileTypes() []string {
	return []string{"cpu", "alloc_objects", "alloc_space", "inuse_objects", "inuse_space", "goroutines"}
}

// contentionTypes are the profiles PushOptions.MutexAndBlock adds.
func contentionTypes() []string {
	return []string{"mutex_count", "mutex_duration", "block_count", "block_duration"}
}

// knownTypes are the profile type names pyroscope-go v1.4 accepts.
func knownTypes() map[string]pyroscope.ProfileType {
	return map[string]pyroscope.ProfileType{
		"cpu":            pyroscope.ProfileCPU,
		"alloc_objects":  pyroscope.ProfileAllocObjects,
		"alloc_space":    pyroscope.ProfileAllocSpace,
		"inuse_objects":  pyroscope.ProfileInuseObjects,
		"inuse_space":    pyroscope.ProfileInuseSpace,
		"goroutines":     pyroscope.ProfileGoroutines,
		"mutex_count":    pyroscope.ProfileMutexCount,
		"mutex_duration": pyroscope.ProfileMutexDuration,
		"block_count":    pyroscope.ProfileBlockCount,
		"block_duration": pyroscope.ProfileBlockDuration,
		"goroutine_leak": pyroscope.ProfileGoroutineLeak,
	}
}

// PushOptions configure StartPush.
type PushOptions struct {
	// ServerAddress is the Pyroscope base URL, e.g.
	// http://pyroscope.monitoring:4040. Required. (pyroscope-go lets the
	// PYROSCOPE_ADHOC_SERVER_ADDRESS environment variable override it.)
	ServerAddress string
	// Service is the application name; it becomes the service_name label.
	// DefaultService by default.
	Service string
	// Instance, when set, is sent as the "instance" label (a pod name).
	Instance string
	// Tags are extra labels on every profile of this process.
	Tags map[string]string
	// DropLabels are goroutine (pprof) labels taken out of every profile
	// before it is uploaded, for labels worth having in a local goroutine
	// dump but with too many values for Pyroscope, which makes a series of
	// every distinct label set (the scheduler's per-run "run" label).
	DropLabels []string

	// ProfileTypes are pyroscope-go profile type names: cpu,
	// alloc_objects, alloc_space, inuse_objects, inuse_space, goroutines,
	// mutex_count, mutex_duration, block_count, block_duration,
	// goroutine_leak. DefaultProfileTypes() by default.
	ProfileTypes []string
	// MutexAndBlock adds the mutex and block profiles and turns the
	// runtime's sampling of them on (runtime.SetMutexProfileFraction,
	// runtime.SetBlockProfileRate) for the Pusher's lifetime. Stop restores
	// the previous mutex fraction and sets the block rate back to 0 (off,
	// the runtime default): the runtime cannot report the previous block
	// rate.
	MutexAndBlock bool
	// MutexProfileFraction samples 1 in this many mutex contention events;
	// DefaultMutexProfileFraction by default. Used with MutexAndBlock.
	MutexProfileFraction int
	// BlockProfileRate samples one blocking event per this much time spent
	// blocked; DefaultBlockProfileRate by default. Used with MutexAndBlock.
	BlockProfileRate time.Duration

	// UploadRate is the length of each profiling window, and so how often
	// profiles are uploaded. DefaultUploadRate by default.
	UploadRate time.Duration
	// UploadTimeout bounds each upload, from dial to the last byte of the
	// response. DefaultUploadTimeout by default.
	UploadTimeout time.Duration
	// WrapTransport, when set, wraps the upload client's transport (the
	// daemon passes its wire-trace wrapper so uploads show up there).
	WrapTransport func(http.RoundTripper) http.RoundTripper

	// BasicAuthUser and BasicAuthPassword authenticate uploads with HTTP
	// basic auth (Grafana Cloud).
	BasicAuthUser, BasicAuthPassword string
	// AuthToken is sent as "Authorization: Bearer <token>" when basic
	// auth is not configured.
	AuthToken string

	// Logger receives upload failures (rate-limited) and pyroscope-go's
	// debug output. Nop by default.
	Logger *zap.Logger
}

// PushStats count a Pusher's uploads since it started.
type PushStats struct {
	// Uploaded counts uploads the server accepted (HTTP 200).
	Uploaded uint64 `json:"uploaded"`
	// Failed counts uploads that were sent and failed: a dial, TLS or
	// timeout error, or a response other than 200.
	Failed uint64 `json:"failed"`
	// Dropped counts profiles never delivered for lack of room or time:
	// pyroscope-go's upload queue was full, or Stop cut the upload short.
	Dropped uint64 `json:"dropped"`
	// LastError describes the most recent failed or dropped upload.
	LastError string `json:"lastError,omitempty"`
	// LastFailure is when LastError happened.
	LastFailure time.Time `json:"lastFailure,omitzero"`
	// LastSuccess is when the server last accepted an upload.
	LastSuccess time.Time `json:"lastSuccess,omitzero"`
}

// Pusher continuously profiles the process and pushes the profiles to
// Pyroscope. Its methods are safe for concurrent use, and a nil *Pusher is
// valid: Stop does nothing and Stats is zero.
type Pusher struct {
	profiler      *pyroscope.Profiler
	transport     *http.Transport
	uploads       *uploadClient
	log           *zap.Logger
	uploadTimeout time.Duration

	// cancel aborts in-flight and future uploads; Stop calls it once the
	// graceful part of its budget is spent.
	cancel context.CancelFunc

	restoreRates func()
	stopOnce     sync.Once
	// stopped is closed when pyroscope-go has stopped, which may be after
	// Stop returned.
	stopped chan struct{}
}

// StartPush starts continuous profiling and returns once the profilers
// run; uploads happen in the background every UploadRate. It fails when
// ServerAddress is missing or not an http(s) URL, a ProfileTypes name is
// unknown, or a tag is not a valid label name. Call Stop to end it.
func StartPush(opts PushOptions) (*Pusher, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	types, err := opts.profileTypes()
	if err != nil {
		return nil, err
	}

	// ctx is the Pusher's lifetime, not a call's bound: Stop cancels it to
	// abort an upload past its budget, and every upload is bounded by the
	// client's Timeout (UploadTimeout) and the transport's dial, TLS and
	// response-header timeouts.
	ctx, cancel := context.WithCancel(context.Background())
	transport := newUploadTransport(opts.UploadTimeout)
	var rt http.RoundTripper = transport
	if opts.WrapTransport != nil {
		rt = opts.WrapTransport(rt)
	}
	failures := newFailureLog(opts.Logger, time.Now, time.Minute)
	uploads := &uploadClient{
		ctx: ctx,
		client: &http.Client{
			Transport: rt,
			Timeout:   opts.UploadTimeout,
			// Like pyroscope-go's own client: a redirect would drop the
			// Authorization header and turn into a confusing 401.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		now:      time.Now,
		failures: failures,
		drop:     slices.Clone(opts.DropLabels),
	}

	p := &Pusher{
		transport:     transport,
		uploads:       uploads,
		log:           opts.Logger,
		uploadTimeout: opts.UploadTimeout,
		cancel:        cancel,
		restoreRates:  func() {},
		stopped:       make(chan struct{}),
	}
	if opts.MutexAndBlock {
		p.restoreRates = setContentionRates(opts.MutexProfileFraction, opts.BlockProfileRate)
	}

	profiler, err := pyroscope.Start(pyroscope.Config{
		ApplicationName:   opts.Service,
		Tags:              opts.tags(),
		ServerAddress:     opts.ServerAddress,
		BasicAuthUser:     opts.BasicAuthUser,
		BasicAuthPassword: opts.BasicAuthPassword,
		HTTPHeaders:       opts.headers(),
		UploadRate:        opts.UploadRate,
		Logger:            &pyroscopeLogger{log: opts.Logger.Named("pyroscope"), uploads: uploads},
		ProfileTypes:      types,
		HTTPClient:        uploads,
	})
	if err != nil {
		p.restoreRates()
		cancel()
		return nil, fmt.Errorf("start pyroscope push to %s: %w", redact.URL(opts.ServerAddress), err)
	}
	p.profiler = profiler
	opts.Logger.Info("pushing profiles to pyroscope",
		zap.String("server", redact.URL(opts.ServerAddress)), zap.String("service", opts.Service),
		zap.Strings("types", typeNames(types)), zap.Duration("uploadRate", opts.UploadRate))
	return p, nil
}

// Stop ends continuous profiling. It gives pyroscope-go UploadTimeout to
// upload the last window, then aborts whatever upload is still in flight,
// so it returns within UploadTimeout+1s even when the server is
// black-holed. If an on-demand CPU profile is running, pyroscope-go hands
// the CPU profiler back when that profile ends, after Stop has returned.
// Stop is idempotent.
func (p *Pusher) Stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() {
		done := p.stopped
		go func() {
			defer close(done)
			_ = p.profiler.Stop() // always nil in pyroscope-go v1.4
		}()
		graceful := time.NewTimer(p.uploadTimeout)
		defer graceful.Stop()
		select {
		case <-done:
		case <-graceful.C:
			p.cancel()
			abandon := time.NewTimer(stopGrace)
			defer abandon.Stop()
			select {
			case <-done:
			case <-abandon.C:
				p.log.Warn("pyroscope push did not stop in time; leaving it to finish in the background",
					zap.Duration("waited", p.uploadTimeout+stopGrace))
			}
		}
		p.cancel()
		p.restoreRates()
		p.transport.CloseIdleConnections()
		p.uploads.failures.flush(p.uploads.stats())
		p.log.Info("stopped pushing profiles", zap.Object("stats", p.uploads.stats()))
	})
}

// Stats returns the upload counters so far.
func (p *Pusher) Stats() PushStats {
	if p == nil {
		return PushStats{}
	}
	return p.uploads.stats()
}

func (o *PushOptions) setDefaults() error {
	if o.ServerAddress == "" {
		return ErrNoServerAddress
	}
	u, err := url.Parse(o.ServerAddress)
	if err != nil {
		return fmt.Errorf("pyroscope server address: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("pyroscope server address %q: want http(s)://host:port", redact.URL(o.ServerAddress))
	}
	if o.Service == "" {
		o.Service = DefaultService
	}
	if o.UploadRate <= 0 {
		o.UploadRate = DefaultUploadRate
	}
	if o.UploadTimeout <= 0 {
		o.UploadTimeout = DefaultUploadTimeout
	}
	if o.MutexProfileFraction <= 0 {
		o.MutexProfileFraction = DefaultMutexProfileFraction
	}
	if o.BlockProfileRate <= 0 {
		o.BlockProfileRate = DefaultBlockProfileRate
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	return nil
}

func (o *PushOptions) profileTypes() ([]pyroscope.ProfileType, error) {
	names := o.ProfileTypes
	if len(names) == 0 {
		names = DefaultProfileTypes()
	}
	if o.MutexAndBlock {
		names = append(slices.Clip(names), contentionTypes()...)
	}
	known := knownTypes()
	var types []pyroscope.ProfileType
	for _, n := range names {
		t, ok := known[n]
		if !ok {
			valid := make([]string, 0, len(known))
			for k := range known {
				valid = append(valid, k)
			}
			sort.Strings(valid)
			return nil, fmt.Errorf("unknown profile type %q: want one of %s", n, strings.Join(valid, ", "))
		}
		if !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	return types, nil
}

// tags copies Tags (pyroscope-go may modify the map) and adds instance.
func (o *PushOptions) tags() map[string]string {
	tags := make(map[string]string, len(o.Tags)+1)
	for k, v := range o.Tags {
		tags[k] = v
	}
	if o.Instance != "" {
		tags["instance"] = o.Instance
	}
	return tags
}

// headers sends AuthToken the way pyroscope-go recommends now that its
// own AuthToken field is deprecated.
func (o *PushOptions) headers() map[string]string {
	if o.AuthToken == "" || (o.BasicAuthUser != "" && o.BasicAuthPassword != "") {
		return nil
	}
	return map[string]string{"Authorization": "Bearer " + o.AuthToken}
}

// newUploadTransport bounds every phase of an upload by timeout, so no
// connection attempt, handshake or silent server outlives it.
func newUploadTransport(timeout time.Duration) *http.Transport {
	phase := min(timeout, 5*time.Second)
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: phase, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   phase,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		// pyroscope-go uploads from 5 goroutines.
		MaxConnsPerHost:     5,
		MaxIdleConnsPerHost: 5,
		ForceAttemptHTTP2:   true,
	}
}

// setContentionRates turns on mutex and block sampling and returns the
// function that turns them back.
func setContentionRates(mutexFraction int, blockRate time.Duration) (restore func()) {
	prevMutex := runtime.SetMutexProfileFraction(mutexFraction)
	runtime.SetBlockProfileRate(int(blockRate.Nanoseconds()))
	return func() {
		runtime.SetMutexProfileFraction(prevMutex)
		runtime.SetBlockProfileRate(0)
	}
}

func typeNames(types []pyroscope.ProfileType) []string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return s
}
