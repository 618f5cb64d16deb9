package main

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// The rules for the config's values, checked after the file and the
// flags are applied (see configcheck.go for the file's shape). The README's
// Configuration section lists them: keep the two in step.

// A value rule: the key's path, the flag that sets it (if any) and the
// check, which returns what is wrong and what is allowed, or "".
type valueRule struct {
	path, flag string
	check      func(c *config) string
}

func positive(what string, d time.Duration) string {
	if d <= 0 {
		return fmt.Sprintf("%s: want more than 0 (%s)", d, what)
	}
	return ""
}

func atLeast(n, least int, what string) string {
	if n < least {
		return fmt.Sprintf("%d: want %d or more (%s)", n, least, what)
	}
	return ""
}

// lineCol reads the line and column of a file:line:col position.
func lineCol(pos string) (line, col int) {
	_, _ = fmt.Sscanf(pos[strings.LastIndex(pos[:strings.LastIndex(pos, ":")], ":")+1:], "%d:%d", &line, &col)
	return line, col
}

// oneOf checks s is one of allowed, with a "did you mean".
func oneOf(s string, allowed ...string) string {
	for _, a := range allowed {
		if s == a {
			return ""
		}
	}
	msg := fmt.Sprintf("%q: use %s", s, orList(allowed))
	if near := dag.Closest(s, allowed); near != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", near)
	}
	return msg
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// hostPort checks a listen address: HOST:PORT or :PORT, port 0 to 65535.
func hostPort(addr, example string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Sprintf("%q: want HOST:PORT or :PORT, such as %s", addr, example)
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return fmt.Sprintf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Sprintf("%q: host %q is not a host name or IP address", addr, host)
	}
	return ""
}

var valueRules = []valueRule{
	{"dags", "--dags", func(c *config) string {
		if c.DAGs == "" {
			return `"": want the DAG folder`
		}
		return ""
	}},
	{"executor", "--executor", func(c *config) string { return oneOf(c.Executor, "local", "kubernetes") }},
	{"data_dir", "--data-dir", func(c *config) string {
		if c.DataDir == "" {
			return `"": want a folder for task logs and local executor state`
		}
		return ""
	}},
	{"health_addr", "--health-addr", func(c *config) string { return hostPort(c.HealthAddr, ":8974") }},
	{"parallelism", "--parallelism", func(c *config) string {
		return atLeast(c.Parallelism, 1, "task instances queued or running at once")
	}},
	{"log_format", "--log-format", func(c *config) string { return oneOf(c.LogFormat, "console", "json") }},
	{"log_level", "--log-level", func(c *config) string { return oneOf(c.LogLevel, "debug", "info", "warn", "error") }},
	{"kill_grace", "--kill-grace", func(c *config) string { return positive("the wait between SIGTERM and SIGKILL", c.KillGrace) }},
	{"stale_after", "--stale-after", func(c *config) string { return positive("silence before other schedulers take the runs", c.StaleAfter) }},
	{"claim_batch", "--claim-batch", func(c *config) string { return atLeast(c.ClaimBatch, 1, "runs claimed per sync") }},
	{"kube.qps", "", func(c *config) string {
		if c.Kube.QPS <= 0 {
			return fmt.Sprintf("%g: want more than 0 (API requests a second)", c.Kube.QPS)
		}
		return ""
	}},
	{"kube.burst", "", func(c *config) string { return atLeast(c.Kube.Burst, 1, "API requests in a burst") }},
	{"kube.request_timeout", "", func(c *config) string { return positive("the deadline of each API request", c.Kube.RequestTimeout) }},
	{"kube.pending_timeout", "", func(c *config) string { return positive("how long a pod may stay Pending", c.Kube.PendingTimeout) }},
	{"kube.keep_failed", "", func(c *config) string {
		if c.Kube.KeepFailed < 0 {
			return fmt.Sprintf("%s: want 0 or more", c.Kube.KeepFailed)
		}
		return ""
	}},
	{"debug.addr", "--debug-addr", func(c *config) string {
		if c.Debug.Addr == "" {
			return ""
		}
		return hostPort(c.Debug.Addr, "127.0.0.1:6061")
	}},
	{"debug.bundle_keep", "", func(c *config) string { return atLeast(c.Debug.BundleKeep, 1, "bundles kept") }},
	{"debug.bundle_profile", "", func(c *config) string { return positive("the profiles' length in a bundle", c.Debug.BundleProfile) }},
	{"debug.wire_trace", "--wire-trace", func(c *config) string {
		return oneOf(c.Debug.WireTrace, "off", "summary", "headers", "bodies")
	}},
	{"debug.flight_recorder", "", func(c *config) string {
		if c.Debug.FlightRecorder < 0 {
			return fmt.Sprintf("%s: want a window such as 10s, or 0 for off", c.Debug.FlightRecorder)
		}
		return ""
	}},
	{"debug.pyroscope.upload_rate", "", func(c *config) string {
		return positive("how often profiles are pushed", c.Debug.Pyroscope.UploadRate)
	}},
	{"api.addr", "--api-addr", func(c *config) string {
		if c.API.Addr == "off" {
			return ""
		}
		if msg := hostPort(c.API.Addr, "127.0.0.1:8975"); msg != "" {
			return msg + `, or "off"`
		}
		return ""
	}},
	{"notifications.retry_backoff", "", func(c *config) string {
		if c.Notifications.RetryBackoff < 0 {
			return fmt.Sprintf("%s: want 0 or more", c.Notifications.RetryBackoff)
		}
		return ""
	}},
	{"notifications.max_retry_backoff", "", func(c *config) string {
		n := c.Notifications
		if n.MaxRetryBackoff < 0 || n.MaxRetryBackoff > 0 && n.MaxRetryBackoff < n.RetryBackoff {
			return fmt.Sprintf("%s: want more than 0 and at least retry_backoff (%s)", n.MaxRetryBackoff, n.RetryBackoff)
		}
		return ""
	}},
}

// validate checks the values of cfg (file and flags applied). flagSet
// reports whether a flag was given; a value from a flag is named by the
// flag, one from the file by its file:line:col.
func (c *config) validate(flagSet func(name string) bool) error {
	// The file's problems in the file's order, then the flags'.
	type problem struct {
		line, col int
		text      string
	}
	var found []problem
	for _, r := range valueRules {
		msg := r.check(c)
		if msg == "" {
			continue
		}
		switch pos, inFile := c.pos[r.path]; {
		case r.flag != "" && flagSet != nil && flagSet(strings.TrimPrefix(r.flag, "--")):
			found = append(found, problem{line: 1 << 30, text: fmt.Sprintf("%s %s", r.flag, msg)})
		case inFile:
			p := problem{text: fmt.Sprintf("%s: %s: %s", pos, r.path, msg)}
			p.line, p.col = lineCol(pos)
			found = append(found, p)
		default:
			found = append(found, problem{text: fmt.Sprintf("%s: %s", r.path, msg)})
		}
	}
	// Each preset on its own, at its place in the file.
	names := make([]string, 0, len(c.Presets))
	for name := range c.Presets {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		err := dag.Presets{name: c.Presets[name].resources()}.Validate()
		if err == nil {
			continue
		}
		pos := c.pos["presets."+name]
		for _, msg := range strings.Split(err.Error(), "\n") {
			msg = strings.TrimPrefix(msg, fmt.Sprintf("preset %q: ", name))
			p := problem{text: fmt.Sprintf("%s: presets.%s: %s", pos, name, msg)}
			if pos == "" {
				p.text = fmt.Sprintf("presets.%s: %s", name, msg)
			} else {
				p.line, p.col = lineCol(pos)
			}
			found = append(found, p)
		}
	}
	// The receivers' mistakes that need none of their secrets, at the
	// key they concern (or the receiver's item, for a key left out).
	for _, e := range c.Notifications.Check() {
		key := e.Key
		pos, inFile := c.pos[key]
		if !inFile {
			key = key[:strings.Index(key, "]")+1]
			pos, inFile = c.pos[key]
		}
		text := strings.TrimPrefix(e.Error(), "config ")
		p := problem{text: text}
		if inFile {
			p.text = pos + ": " + text
			p.line, p.col = lineCol(pos)
		}
		found = append(found, p)
	}
	sort.SliceStable(found, func(i, j int) bool {
		return found[i].line < found[j].line || found[i].line == found[j].line && found[i].col < found[j].col
	})
	var problems []string
	for _, p := range found {
		problems = append(problems, p.text)
	}
	if len(problems) > 0 {
		return &usageError{&configError{problems: problems}}
	}
	return nil
}
