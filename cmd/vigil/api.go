package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/vigilhq/vigil/api"
	"github.com/vigilhq/vigil/api/server"
	"github.com/vigilhq/vigil/console"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/watchdog"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// defaultAPIAddr is where the operations API listens by default: this
// machine only, so the local token it makes is enough.
const defaultAPIAddr = "127.0.0.1:8975"

// apiTokens reads the configured tokens: --api-token flags, else the
// config file's api.tokens.
func apiTokens(c apiConfig) ([]server.Token, error) {
	var toks []server.Token
	for _, spec := range c.TokenSpecs {
		t, err := server.ParseTokenSpec(spec)
		if err != nil {
			return nil, &usageError{err}
		}
		toks = append(toks, t)
	}
	if len(c.TokenSpecs) > 0 {
		return toks, nil
	}
	for i, tc := range c.Tokens {
		if tc.Name == "" || tc.File == "" {
			return nil, &usageError{fmt.Errorf("config api.tokens[%d]: give name, role and file", i)}
		}
		t, err := server.LoadToken(tc.Name, tc.Role, tc.File)
		if err != nil {
			return nil, &usageError{err}
		}
		toks = append(toks, t)
	}
	return toks, nil
}

// isLoopback reports whether addr's host is this machine only.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// apiListener is the operations API's listener, made before the daemon
// starts so that a bad address or token fails `vigil run` at once.
type apiListener struct {
	ln     net.Listener
	tls    *tls.Config
	tokens []server.Token
	// local is the record written for admin commands, and its path and
	// the local token's (removed at exit).
	local                api.Local
	localPath, tokenPath string
}

// listenAPI checks the `api:` configuration, listens, and writes the
// local record (RUNTIME_DIR/api-PID.json) and, with no token configured,
// a local operator token. It returns nil with "off".
func listenAPI(cfg config, instance string, log *zap.Logger) (*apiListener, error) {
	c := cfg.API
	if c.Addr == "off" || c.Addr == "" {
		return nil, nil
	}
	toks, err := apiTokens(c)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 && !isLoopback(c.Addr) {
		return nil, &usageError{fmt.Errorf("--api-addr %s is reachable from other machines, and no --api-token is configured: "+
			"give each user a token (--api-token NAME:operator:FILE, a file holding 'openssl rand -hex 32', mode 0600), or listen on 127.0.0.1", c.Addr)}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, &usageError{errors.New("--api-tls-cert and --api-tls-key go together: give both, or neither for http")}
	}
	l := &apiListener{tokens: toks}
	if c.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, &usageError{fmt.Errorf("--api-tls-cert %s / --api-tls-key %s: %w", c.TLSCert, c.TLSKey, err)}
		}
		l.tls = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	dir := cfg.Debug.RuntimeDir
	if dir == "" {
		dir = debugserver.DefaultDir()
	}
	if _, err := debugserver.PrepareDir(dir); err != nil {
		return nil, fmt.Errorf("runtime folder for the operations API's local record: %w", err)
	}
	pid := os.Getpid()
	if len(toks) == 0 {
		t, path, err := localToken(dir, pid)
		if err != nil {
			return nil, err
		}
		l.tokens, l.tokenPath = []server.Token{t}, path
	}
	l.ln, err = net.Listen("tcp", c.Addr)
	if err != nil && c.Addr == defaultAPIAddr && errors.Is(err, syscall.EADDRINUSE) {
		// Another scheduler on this machine has the default port: this
		// one takes any free port, which its local record names.
		log.Warn("the operations API's default address is in use (another vigil run on this machine?); taking a free port; set --api-addr to choose one",
			zap.String("addr", c.Addr))
		l.ln, err = net.Listen("tcp", "127.0.0.1:0")
	}
	if err != nil {
		l.removeLocal()
		return nil, fmt.Errorf("operations API: %w (choose another --api-addr, or --api-addr off)", err)
	}
	scheme := "http"
	if l.tls != nil {
		scheme = "https"
	}
	host, port, _ := net.SplitHostPort(l.ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	l.local = api.Local{
		Server: scheme + "://" + net.JoinHostPort(host, port), TokenFile: l.tokenPath, CAFile: c.TLSCert,
		Instance: instance, PID: pid, StartedAt: time.Now().UTC(),
	}
	if c.TLSCert != "" {
		if abs, err := filepath.Abs(c.TLSCert); err == nil {
			l.local.CAFile = abs
		}
	}
	l.localPath = filepath.Join(dir, "api-"+strconv.Itoa(pid)+".json")
	b, _ := json.MarshalIndent(l.local, "", "  ")
	if err := os.WriteFile(l.localPath, append(b, '\n'), 0o600); err != nil {
		l.ln.Close()
		l.removeLocal()
		return nil, fmt.Errorf("operations API: write its local record: %w", err)
	}
	return l, nil
}

// localToken makes a random operator token named after the OS user
// ("local:root") and writes it, mode 0600, in the runtime folder.
func localToken(dir string, pid int) (server.Token, string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return server.Token{}, "", err
	}
	name := os.Getenv("USER")
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	if name == "" {
		name = "uid" + strconv.Itoa(os.Getuid())
	}
	t := server.Token{Name: "local:" + name, Role: api.RoleOperator, Secret: hex.EncodeToString(b)}
	path := filepath.Join(dir, "api-"+strconv.Itoa(pid)+".token")
	if err := os.WriteFile(path, []byte(t.Secret+"\n"), 0o600); err != nil {
		return server.Token{}, "", fmt.Errorf("operations API: write the local token: %w", err)
	}
	return t, path, nil
}

// removeLocal removes the local record and token.
func (l *apiListener) removeLocal() {
	for _, p := range []string{l.localPath, l.tokenPath} {
		if p != "" {
			_ = os.Remove(p)
		}
	}
}

// serveAPI serves the operations API on l until ctx ends, then removes
// the local record.
func serveAPI(ctx context.Context, l *apiListener, instance string, presets dag.Presets, wd *watchdog.Watchdog, in *instruments,
	state *startState, log *zap.Logger) error {
	defer l.removeLocal()
	srv, err := server.New(server.Options{
		Store:    state.openStore,
		Logs:     state.logReader,
		Tokens:   l.tokens,
		Instance: instance,
		Presets:  presets,
		Watchdog: wd,
		Inflight: in.reg,
		Debug:    in.server.Handler(),
		Console:  console.Handler(),
		Extra: []server.Route{{Method: http.MethodGet, Pattern: strings.TrimPrefix(console.FlameGraphPath, api.Prefix),
			Role: api.RoleReadOnly, Handler: console.FlameGraphs()}},
		Metrics: in.metrics.opsAPI,
		Logger:  log.Named("api"),
	})
	if err != nil {
		l.ln.Close()
		return err
	}
	log.Info("operations API and web console at " + l.local.Server + "/")
	return srv.Serve(ctx, l.ln, l.tls)
}
