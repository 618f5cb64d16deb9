// Package notify delivers task notifications (issue 20) to the receivers
// the scheduler's config declares: a generic JSON webhook, a
// Slack-compatible incoming webhook, or Alertmanager's API.
//
// The scheduling loop sends nothing. The store writes a pending
// notification in the transaction of the transition that makes it due
// (scheduler.Due); a Sender, a goroutine of its own, claims the pending
// ones from the scheduler.Outbox, posts each with a per-request deadline,
// and records the attempt: sent, due again after an exponential backoff
// with jitter, or given up after the receiver's max_attempts. Several
// schedulers on one PostgreSQL share the work through claims. Delivery is
// at least once: a sender killed between a receiver's 2xx and the record
// of it sends that notification again when its claim lapses.
//
// Secrets (a Slack webhook URL, a token) come from files or the
// environment, never from DAG files, and never appear in an error, a log
// line or a recorded attempt: errors name the receiver, not its URL.
package notify

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// The receiver types.
const (
	TypeWebhook      = "webhook"
	TypeSlack        = "slack"
	TypeAlertmanager = "alertmanager"
)

// Defaults of a receiver's settings.
const (
	DefaultTimeout     = 10 * time.Second
	DefaultMaxAttempts = 5
)

// Config is the `notifications:` section of the scheduler's config file.
type Config struct {
	Receivers []ReceiverConfig `yaml:"receivers"`
	// ConsoleURL, if set, is the web console's base URL: payloads link to
	// the task's page there.
	ConsoleURL string `yaml:"console_url"`
	// RetryBackoff is the wait after a first failed attempt, doubled
	// after each further one up to MaxRetryBackoff (1s and 5m if 0).
	RetryBackoff    time.Duration `yaml:"retry_backoff"`
	MaxRetryBackoff time.Duration `yaml:"max_retry_backoff"`
}

// ReceiverConfig is one receiver as the config file declares it.
type ReceiverConfig struct {
	Name string `yaml:"name"`
	Type string `yaml:"type"`
	// URL, or URLFile holding it (a Slack webhook URL is a secret).
	URL     string `yaml:"url"`
	URLFile string `yaml:"url_file"`
	// Headers are sent with every request.
	Headers map[string]string `yaml:"headers"`
	// TokenFile or TokenEnv holds a bearer token sent as Authorization.
	TokenFile string `yaml:"token_file"`
	TokenEnv  string `yaml:"token_env"`
	// Timeout bounds one request (DefaultTimeout if 0); MaxAttempts is
	// how many are tried before giving up (DefaultMaxAttempts if 0).
	Timeout     time.Duration `yaml:"timeout"`
	MaxAttempts int           `yaml:"max_attempts"`
}

// Receiver is a receiver ready to use: secrets read, defaults filled in.
type Receiver struct {
	Name, Type  string
	URL         string // secret: never shown
	Headers     map[string]string
	Token       string // secret: never shown
	Timeout     time.Duration
	MaxAttempts int
}

// Secrets returns the values of r that must never be shown: its URL
// (with its path and query, where Slack keeps its key) and its token.
func (r Receiver) Secrets() []string {
	var s []string
	if r.URL != "" {
		s = append(s, r.URL)
		if u, err := url.Parse(r.URL); err == nil && (u.Path != "" && u.Path != "/" || u.RawQuery != "") {
			s = append(s, strings.TrimPrefix(u.RequestURI(), "/"))
		}
	}
	if r.Token != "" {
		s = append(s, r.Token)
	}
	return s
}

// A KeyError is one mistake in the notifications section, at the config
// key it concerns (notifications.receivers[0].type): the caller turns the
// key into a file:line:col.
type KeyError struct {
	Key  string // the key's path, the receiver's index in brackets
	Name string // the receiver's name, if it has one
	Msg  string
}

func (e KeyError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("config %s: %s", e.Key, e.Msg)
	}
	// notifications.receivers[0] (ops).type: the name helps find it.
	i := strings.Index(e.Key, "]") + 1
	return fmt.Sprintf("config %s (%s)%s: %s", e.Key[:i], e.Name, e.Key[i:], e.Msg)
}

// Check returns every mistake in c that can be seen without reading its
// secrets (files and environment), in the order of the receivers.
func (c Config) Check() []KeyError {
	var errs []KeyError
	seen := map[string]bool{}
	for i, rc := range c.Receivers {
		key := fmt.Sprintf("notifications.receivers[%d]", i)
		bad := func(field, msg string) {
			k := key
			if field != "" {
				k += "." + field
			}
			errs = append(errs, KeyError{Key: k, Name: rc.Name, Msg: msg})
		}
		switch {
		case rc.Name == "":
			bad("", "give the receiver a name (DAGs name it in on_failure, on_retry, on_success)")
		case seen[rc.Name]:
			bad("name", fmt.Sprintf("a receiver named %q is declared twice", rc.Name))
		}
		seen[rc.Name] = true
		types := []string{TypeWebhook, TypeSlack, TypeAlertmanager}
		if !slices.Contains(types, rc.Type) {
			msg := fmt.Sprintf("%q is not a receiver type; use webhook, slack or alertmanager", rc.Type)
			if rc.Type == "" {
				msg = "give the receiver a type: webhook, slack or alertmanager"
			} else if near := dag.Closest(rc.Type, types); near != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", near)
			}
			bad("type", msg)
		}
		switch {
		case rc.URL != "" && rc.URLFile != "":
			bad("url_file", "give url or url_file, not both")
		case rc.URL == "" && rc.URLFile == "":
			bad("", "give url, or url_file for a URL that is a secret (a Slack webhook's)")
		case rc.URL != "" && !httpURL(rc.URL):
			// Not %q of the URL: it may be the secret.
			bad("url", "the url is not an http:// or https:// URL")
		}
		if rc.TokenFile != "" && rc.TokenEnv != "" {
			bad("token_env", "give token_file or token_env, not both")
		}
		if rc.Timeout < 0 {
			bad("timeout", fmt.Sprintf("%s: want 0 (the default, %s) or more", rc.Timeout, DefaultTimeout))
		}
		if rc.MaxAttempts < 0 {
			bad("max_attempts", fmt.Sprintf("%d: want 0 (the default, %d) or more", rc.MaxAttempts, DefaultMaxAttempts))
		}
	}
	return errs
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Load checks c and returns its receivers, secrets read from their
// files and the environment. An error names the config key at fault.
func (c Config) Load() ([]Receiver, error) {
	if errs := c.Check(); len(errs) > 0 {
		return nil, errs[0]
	}
	var out []Receiver
	for i, rc := range c.Receivers {
		keyErr := func(field, msg string) error {
			return KeyError{Key: fmt.Sprintf("notifications.receivers[%d].%s", i, field), Name: rc.Name, Msg: msg}
		}
		r := Receiver{Name: rc.Name, Type: rc.Type, URL: rc.URL, Headers: rc.Headers, Timeout: rc.Timeout, MaxAttempts: rc.MaxAttempts}
		if rc.URLFile != "" {
			b, err := os.ReadFile(rc.URLFile)
			if err != nil {
				return nil, keyErr("url_file", err.Error())
			}
			r.URL = strings.TrimSpace(string(b))
			if !httpURL(r.URL) {
				return nil, keyErr("url_file", "the file does not hold an http:// or https:// URL")
			}
		}
		switch {
		case rc.TokenFile != "":
			b, err := os.ReadFile(rc.TokenFile)
			if err != nil {
				return nil, keyErr("token_file", err.Error())
			}
			r.Token = strings.TrimSpace(string(b))
		case rc.TokenEnv != "":
			r.Token = os.Getenv(rc.TokenEnv)
			if r.Token == "" {
				return nil, keyErr("token_env", fmt.Sprintf("$%s is empty or unset", rc.TokenEnv))
			}
		}
		if r.Timeout == 0 {
			r.Timeout = DefaultTimeout
		}
		if r.MaxAttempts == 0 {
			r.MaxAttempts = DefaultMaxAttempts
		}
		out = append(out, r)
	}
	return out, nil
}

// Names returns the receivers' names, sorted: what DAG files may name.
func Names(rs []Receiver) []string {
	names := make([]string, 0, len(rs))
	for _, r := range rs {
		names = append(names, r.Name)
	}
	slices.Sort(names)
	return names
}
