package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/vigilhq/vigil/scheduler/dag"
	"github.com/vigilhq/vigil/scheduler/notify"
)

// config is `vigil run`'s configuration: embedded defaults, then the
// config file (--config), then flags.
type config struct {
	DAGs        string        `yaml:"dags"`
	DB          string        `yaml:"db"`
	Executor    string        `yaml:"executor"`
	DataDir     string        `yaml:"data_dir"`
	HealthAddr  string        `yaml:"health_addr"`
	Parallelism int           `yaml:"parallelism"`
	LogFormat   string        `yaml:"log_format"`
	LogLevel    string        `yaml:"log_level"`
	KillGrace   time.Duration `yaml:"kill_grace"`
	// Instance names this scheduler in transition records, heartbeats
	// and run ownership; host:pid by default (the pod name in a pod).
	Instance string `yaml:"instance"`
	// StaleAfter and ClaimBatch tune several schedulers on one
	// PostgreSQL (see scheduler.Options).
	StaleAfter time.Duration `yaml:"stale_after"`
	ClaimBatch int           `yaml:"claim_batch"`
	// MaxEvictions is how many evicted tries of a task are run again
	// without using a retry (see scheduler.Options).
	MaxEvictions int                     `yaml:"max_evictions"`
	Presets      map[string]presetConfig `yaml:"presets"`
	Kube         kubeConfig              `yaml:"kube"`
	Debug        debugConfig             `yaml:"debug"`

	// MaxCatchupRuns bounds a DAG's runs active at once while it catches
	// up on missed ticks (see scheduler.Options).
	MaxCatchupRuns int `yaml:"max_catchup_runs"`

	// Retention, when set, deletes runs that ended longer ago (see
	// scheduler.Retention); 0 keeps everything.
	Retention ageValue `yaml:"retention"`

	// API is the operations API and web console (issue 19).
	API apiConfig `yaml:"api"`

	// Notifications declares the receivers DAGs notify (issue 20).
	Notifications notify.Config `yaml:"notifications"`

	// pos maps each key the config file set (kube.qps) to its
	// file:line:col, for errors about its value.
	pos map[string]string
}

// apiConfig is the `api:` section: where the operations API listens and
// the tokens it accepts.
type apiConfig struct {
	// Addr is host:port, or "off".
	Addr    string `yaml:"addr"`
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Tokens are the bearer tokens; with none, vigil run makes a local
	// operator token (see serveAPI).
	Tokens []apiTokenConfig `yaml:"tokens"`
	// TokenSpecs are --api-token NAME:ROLE:FILE flags; they replace Tokens.
	TokenSpecs []string `yaml:"-"`
}

// apiTokenConfig is one token: its name (the actor of what it does), its
// role (read-only or operator) and the file holding it.
type apiTokenConfig struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
	File string `yaml:"file"`
}

// debugConfig is the `debug:` section: the debug API, bundles, wire
// tracing, the flight recorder and continuous profiling.
type debugConfig struct {
	// RuntimeDir holds the debug socket (default: see debugserver.DefaultDir).
	RuntimeDir string `yaml:"runtime_dir"`
	// Addr also serves the debug API on this loopback address, with the
	// bearer token in TokenFile.
	Addr      string `yaml:"addr"`
	TokenFile string `yaml:"token_file"`
	// BundleDir is where diagnostic bundles go (default <data_dir>/bundles):
	// in a pod, a volume that outlives the container.
	BundleDir  string `yaml:"bundle_dir"`
	BundleKeep int    `yaml:"bundle_keep"`
	// BundleProfile is the length of the CPU and wall-clock profiles in a bundle.
	BundleProfile time.Duration `yaml:"bundle_profile"`
	// WireTrace is the initial wire-trace mode: off, summary, headers or bodies.
	WireTrace string `yaml:"wire_trace"`
	// FlightRecorder is the flight recorder's window; 0 turns it off.
	FlightRecorder time.Duration   `yaml:"flight_recorder"`
	Pyroscope      pyroscopeConfig `yaml:"pyroscope"`
}

// pyroscopeConfig turns on continuous profiling when ServerAddress is set.
type pyroscopeConfig struct {
	ServerAddress string        `yaml:"server_address"`
	TokenFile     string        `yaml:"token_file"`
	UploadRate    time.Duration `yaml:"upload_rate"`
	MutexBlock    bool          `yaml:"mutex_block"`
}

// presetConfig is one resource preset in the config file.
type presetConfig struct {
	CPU           string `yaml:"cpu"`
	Memory        string `yaml:"memory"`
	CPULimit      string `yaml:"cpu_limit"`
	MemoryLimit   string `yaml:"memory_limit"`
	EphemeralDisk string `yaml:"ephemeral_disk"`
}

func (r presetConfig) resources() dag.Resources {
	return dag.Resources{CPU: r.CPU, Memory: r.Memory, CPULimit: r.CPULimit, MemoryLimit: r.MemoryLimit, EphemeralDisk: r.EphemeralDisk}
}

func defaultConfig() config {
	return config{
		DAGs:         "./dags",
		DB:           "vigil.db",
		Executor:     "local",
		DataDir:      "./vigil-data",
		HealthAddr:   ":8974",
		Parallelism:  32,
		LogFormat:    "console",
		LogLevel:     "info",
		KillGrace:    10 * time.Second,
		StaleAfter:   45 * time.Second,
		ClaimBatch:   8,
		MaxEvictions: 10,
		Kube:         defaultKubeConfig(),
		Debug: debugConfig{
			BundleKeep:     10,
			BundleProfile:  2 * time.Second,
			WireTrace:      "summary",
			FlightRecorder: 10 * time.Second,
			Pyroscope:      pyroscopeConfig{UploadRate: 15 * time.Second},
		},
		MaxCatchupRuns: 16,
		API:            apiConfig{Addr: defaultAPIAddr},
	}
}

// loadConfig reads the config file at path over the defaults; an empty
// path reads $VIGIL_CONFIG, if set.
func loadConfig(path string) (config, error) {
	cfg := defaultConfig()
	if path == "" {
		path = os.Getenv("VIGIL_CONFIG")
	}
	if path == "" {
		return cfg, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return cfg, fmt.Errorf("read config: %w", err)
	}
	// Checked first, so that every problem is reported in the file's
	// terms; the decoder's own errors are a backstop.
	root, pos, err := checkConfigFile(path, data)
	if err != nil {
		return cfg, err
	}
	if root != nil {
		if err := root.Decode(&cfg); err != nil {
			return cfg, fmt.Errorf("config %s: %w (see the README's configuration section for the known keys)", path, err)
		}
	}
	cfg.pos = pos
	return cfg, nil
}

// presets returns the configured resource presets over the defaults.
func (c config) presets() (dag.Presets, error) {
	p := dag.DefaultPresets()
	for name, r := range c.Presets {
		p[name] = r.resources()
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("config presets: %w", err)
	}
	return p, nil
}

// overrides are `vigil run`'s flags; those set on the command line
// override the config file.
type overrides struct {
	fs *pflag.FlagSet
	// the flag values, applied only when Changed
	dags, executor, dataDir, healthAddr, logFormat, logLevel string
	parallelism, claimBatch, maxEvictions                    int
	maxCatchupRuns                                           int
	killGrace, staleAfter                                    time.Duration
	instance                                                 string
	kubeconfig, kubeContext, namespace, image, podTemplate   string
	runtimeDir, debugAddr, debugToken, bundleDir, pyroscope  string
	wireTrace                                                string
	retention                                                ageValue
	apiAddr, apiTLSCert, apiTLSKey                           string
	apiTokens                                                []string
}

func bindRunFlags(fs *pflag.FlagSet) *overrides {
	d := defaultConfig()
	o := &overrides{fs: fs}
	fs.StringVar(&o.dags, "dags", d.DAGs, "folder of DAG files (reloaded when they change)")
	fs.StringVar(&o.executor, "executor", d.Executor, "where tasks run: local or kubernetes")
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file for --executor=kubernetes (default $KUBECONFIG, ~/.kube/config, or in-cluster)")
	fs.StringVar(&o.kubeContext, "context", "", "kubeconfig context to use")
	fs.StringVarP(&o.namespace, "namespace", "n", d.Kube.Namespace, "namespace the task pods run in")
	fs.StringVar(&o.image, "default-image", "", "image for tasks that name none")
	fs.StringVar(&o.podTemplate, "pod-template", "", "Pod manifest every task pod starts from (node selector, tolerations, annotations...)")
	fs.StringVar(&o.dataDir, "data-dir", d.DataDir, "folder for task logs and local executor state")
	fs.StringVar(&o.healthAddr, "health-addr", d.HealthAddr, "address of the health server (/livez, /readyz, /healthz, /metrics)")
	fs.IntVar(&o.parallelism, "parallelism", d.Parallelism, "most task instances queued or running at once")
	fs.StringVar(&o.logFormat, "log-format", d.LogFormat, "log format: console or json")
	fs.StringVar(&o.logLevel, "log-level", d.LogLevel, "log level: debug, info, warn, error")
	fs.DurationVar(&o.killGrace, "kill-grace", d.KillGrace, "wait between SIGTERM and SIGKILL when a task is stopped")
	fs.StringVar(&o.instance, "instance", "", "name of this scheduler in records and run ownership; unique per process (default host:pid)")
	fs.IntVar(&o.claimBatch, "claim-batch", d.ClaimBatch, "with several schedulers on one PostgreSQL: most runs with no owner claimed per sync")
	fs.DurationVar(&o.staleAfter, "stale-after", d.StaleAfter, "with several schedulers on one PostgreSQL: how long one may be silent before the others take its runs over")
	fs.IntVar(&o.maxEvictions, "max-evictions", d.MaxEvictions, "evicted, preempted or node-lost tries of a task run again without using a retry, up to this many; then they count as failures (negative: always)")
	fs.IntVar(&o.maxCatchupRuns, "max-catchup-runs", d.MaxCatchupRuns, "a DAG catching up on missed ticks has at most this many runs active at once (its max_catchup_runs overrides; negative: only max_active_runs)")
	fs.StringVar(&o.runtimeDir, "runtime-dir", "", "folder of the debug socket that diag finds (default $VIGIL_RUNTIME_DIR, $XDG_RUNTIME_DIR/vigil or /tmp/vigil-UID)")
	fs.StringVar(&o.debugAddr, "debug-addr", "", "also serve the debug API on this loopback address (127.0.0.1:PORT); needs --debug-token-file")
	fs.StringVar(&o.debugToken, "debug-token-file", "", "file holding the bearer token the --debug-addr listener requires")
	fs.StringVar(&o.bundleDir, "bundle-dir", "", "folder for diagnostic bundles (default DATA_DIR/bundles)")
	fs.StringVar(&o.pyroscope, "pyroscope-url", "", "push continuous profiles to this Pyroscope server (http://host:4040)")
	fs.StringVar(&o.wireTrace, "wire-trace", d.Debug.WireTrace, "initial wire-trace mode: off, summary, headers or bodies (diag trace changes it at runtime)")
	fs.StringVar(&o.apiAddr, "api-addr", d.API.Addr, `address of the operations API and web console ("off" disables it; a non-loopback one needs --api-token)`)
	fs.StringArrayVar(&o.apiTokens, "api-token", nil, "a token the operations API accepts, NAME:ROLE:FILE with ROLE read-only or operator and FILE holding the token, mode 0600 (repeatable; default: a local operator token in the runtime folder)")
	fs.StringVar(&o.apiTLSCert, "api-tls-cert", "", "serve the operations API over https with this certificate (PEM)")
	fs.StringVar(&o.apiTLSKey, "api-tls-key", "", "the private key of --api-tls-cert (PEM)")
	fs.Var(&o.retention, "retention", "delete runs that ended longer ago than this (30d, 12h), with their tasks, history and logs, a batch at a time (default: keep everything)")
	return o
}

func (o *overrides) apply(cfg *config) {
	set := func(name string, f func()) {
		if o.fs.Changed(name) {
			f()
		}
	}
	set("dags", func() { cfg.DAGs = o.dags })
	set("executor", func() { cfg.Executor = o.executor })
	set("data-dir", func() { cfg.DataDir = o.dataDir })
	set("health-addr", func() { cfg.HealthAddr = o.healthAddr })
	set("parallelism", func() { cfg.Parallelism = o.parallelism })
	set("log-format", func() { cfg.LogFormat = o.logFormat })
	set("log-level", func() { cfg.LogLevel = o.logLevel })
	set("kill-grace", func() { cfg.KillGrace = o.killGrace })
	set("instance", func() { cfg.Instance = o.instance })
	set("stale-after", func() { cfg.StaleAfter = o.staleAfter })
	set("claim-batch", func() { cfg.ClaimBatch = o.claimBatch })
	set("max-evictions", func() { cfg.MaxEvictions = o.maxEvictions })
	set("max-catchup-runs", func() { cfg.MaxCatchupRuns = o.maxCatchupRuns })
	set("kubeconfig", func() { cfg.Kube.Kubeconfig = o.kubeconfig })
	set("context", func() { cfg.Kube.Context = o.kubeContext })
	set("namespace", func() { cfg.Kube.Namespace = o.namespace })
	set("default-image", func() { cfg.Kube.DefaultImage = o.image })
	set("pod-template", func() { cfg.Kube.PodTemplate = o.podTemplate })
	set("runtime-dir", func() { cfg.Debug.RuntimeDir = o.runtimeDir })
	set("debug-addr", func() { cfg.Debug.Addr = o.debugAddr })
	set("debug-token-file", func() { cfg.Debug.TokenFile = o.debugToken })
	set("bundle-dir", func() { cfg.Debug.BundleDir = o.bundleDir })
	set("pyroscope-url", func() { cfg.Debug.Pyroscope.ServerAddress = o.pyroscope })
	set("wire-trace", func() { cfg.Debug.WireTrace = o.wireTrace })
	set("retention", func() { cfg.Retention = o.retention })
	set("api-addr", func() { cfg.API.Addr = o.apiAddr })
	set("api-tls-cert", func() { cfg.API.TLSCert = o.apiTLSCert })
	set("api-tls-key", func() { cfg.API.TLSKey = o.apiTLSKey })
	set("api-token", func() { cfg.API.Tokens = nil; cfg.API.TokenSpecs = o.apiTokens })
}
