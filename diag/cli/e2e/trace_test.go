package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/clitest"
	"github.com/vigilhq/vigil/diag/cli/trace"
	"github.com/vigilhq/vigil/diag/wiretrace"
)

// traceToken is the bearer token the scheduler sends to its Pyroscope
// server; no diag output may ever show it.
const traceToken = "e2e-pyroscope-token-4f9c1b7d2e"

// TestTrace switches the wire trace's mode and reads the exchanges the
// scheduler makes: it pushes profiles every second to a Pyroscope
// stand-in on 127.0.0.1, with a bearer token that must come out redacted.
func TestTrace(t *testing.T) {
	var uploads atomic.Int64
	pyro := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		uploads.Add(1)
	}))
	defer pyro.Close()
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "pyroscope-token")
	cfg := filepath.Join(dir, "vigil.yaml")
	writeFile(t, tokenFile, traceToken+"\n")
	writeFile(t, cfg, fmt.Sprintf("debug:\n  pyroscope:\n    server_address: %s\n    token_file: %s\n    upload_rate: 1s\n", pyro.URL, tokenFile))
	s := clitest.Start(t, clitest.Options{Extra: []string{"--config", cfg}})

	run := func(t *testing.T, args ...string) clitest.Result {
		t.Helper()
		r := clitest.Run(t, s, args...)
		if strings.Contains(r.Out+r.Err, traceToken) {
			t.Fatalf("diag %s printed the bearer token:\n%s%s", strings.Join(args, " "), r.Out, r.Err)
		}
		return r
	}
	wantOut := func(t *testing.T, r clitest.Result, code int, want ...string) {
		t.Helper()
		if r.Code != code {
			t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", r.Code, code, r.Out, r.Err)
		}
		for _, w := range want {
			if !strings.Contains(r.Out, w) {
				t.Errorf("output lacks %q:\n%s", w, r.Out)
			}
		}
	}

	t.Run("mode round trip", func(t *testing.T) {
		wantOut(t, run(t, "trace"), 0, "mode: summary")
		wantOut(t, run(t, "trace", "headers"), 0, "summary -> headers")
		wantOut(t, run(t, "trace"), 0, "mode: headers")
		r := run(t, "trace", "-o", "json")
		var st trace.Status
		if err := json.Unmarshal([]byte(r.Out), &st); err != nil || st.Mode != "headers" {
			t.Errorf("trace -o json: %v %+v\n%s", err, st, r.Out)
		}
		r = run(t, "trace", "verbose")
		if r.Code != 2 || !strings.Contains(r.Err, "off, summary, headers, bodies") {
			t.Errorf("trace verbose: exit %d, stderr %q; want 2 and the valid modes", r.Code, r.Err)
		}
	})

	// Uploads recorded in headers mode carry the redacted Authorization.
	var xs []wiretrace.Exchange
	clitest.WaitFor(t, "an upload recorded with its headers", 60*time.Second, func() bool {
		r := run(t, "trace", "tail", "-o", "json", "--max", "5")
		xs = nil
		if err := json.Unmarshal([]byte(r.Out), &xs); err != nil {
			t.Fatalf("trace tail -o json: exit %d, %v\n%s%s", r.Code, err, r.Out, r.Err)
		}
		for _, x := range xs {
			if x.Client == "pyroscope" && x.ReqHeaders != nil {
				return true
			}
		}
		return false
	})
	t.Run("tail -o json", func(t *testing.T) {
		if len(xs) > 5 {
			t.Errorf("--max 5 gave %d exchanges", len(xs))
		}
		for i, x := range xs {
			if i > 0 && x.Seq <= xs[i-1].Seq {
				t.Errorf("not oldest first: seq %d after %d", x.Seq, xs[i-1].Seq)
			}
			if x.ReqHeaders != nil && x.ReqHeaders.Get("Authorization") != "REDACTED" {
				t.Errorf("exchange %d: Authorization %q; want REDACTED", x.Seq, x.ReqHeaders.Get("Authorization"))
			}
		}
	})
	t.Run("tail", func(t *testing.T) {
		r := run(t, "trace", "tail", "--max", "3")
		wantOut(t, r, 0, "TIME", "CLIENT", "pyroscope", "POST", pyro.URL)
		if rows := regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d\.\d{3}  `).FindAllString(r.Out, -1); len(rows) == 0 || len(rows) > 3 {
			t.Errorf("--max 3 printed %d exchanges:\n%s", len(rows), r.Out)
		}
	})
	t.Run("status counts", func(t *testing.T) {
		r := run(t, "trace", "-o", "json")
		var st trace.Status
		if err := json.Unmarshal([]byte(r.Out), &st); err != nil || st.Kept == 0 || st.InRing == 0 || st.InRing > st.Kept {
			t.Errorf("trace -o json: %v %+v\n%s", err, st, r.Out)
		}
	})
	t.Run("tail -f -o json", func(t *testing.T) {
		// One exchange at once, then the uploads of the next few seconds.
		ctx, cancel := context.WithTimeout(context.Background(), 4500*time.Millisecond)
		defer cancel()
		r := clitest.RunContext(t, ctx, s, "trace", "tail", "-f", "--max", "1", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("exit %d after Ctrl-C; want 0\n%s%s", r.Code, r.Out, r.Err)
		}
		if strings.Contains(r.Out+r.Err, traceToken) {
			t.Fatalf("trace tail -f printed the bearer token:\n%s", r.Out)
		}
		var seqs []uint64
		sc := bufio.NewScanner(strings.NewReader(r.Out))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var x wiretrace.Exchange
			if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
				t.Fatalf("line %d is not one JSON object: %v\n%s", len(seqs)+1, err, sc.Text())
			}
			if len(seqs) > 0 && x.Seq <= seqs[len(seqs)-1] {
				t.Errorf("seq %d after %d: an exchange repeated or out of order", x.Seq, seqs[len(seqs)-1])
			}
			seqs = append(seqs, x.Seq)
		}
		if len(seqs) < 2 {
			t.Errorf("followed %d exchanges in 4.5s of uploads every second; want the first and new ones:\n%s", len(seqs), r.Out)
		}
	})
	t.Run("back to summary", func(t *testing.T) {
		wantOut(t, run(t, "trace", "summary"), 0, "headers -> summary")
	})
	if uploads.Load() == 0 {
		t.Error("the Pyroscope stand-in received nothing")
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}
