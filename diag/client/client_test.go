package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
)

// nobody stands for another user.
const nobody = 65534

// listenEnv makes the test binary a bare unix-socket listener at the
// path it names (the other user's process in
// TestSocketServedByAnotherUserRefused).
const listenEnv = "VIGIL_CLIENT_TEST_LISTEN"

func TestMain(m *testing.M) {
	if path := os.Getenv(listenEnv); path != "" {
		ln, err := net.Listen("unix", path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("listening")
		for {
			c, err := ln.Accept()
			if err != nil {
				os.Exit(0)
			}
			c.Close()
		}
	}
	os.Exit(m.Run())
}

// serve runs a real debug server in dir until the test ends.
func serve(t *testing.T, dir string) *debugserver.Server {
	t.Helper()
	srv, err := debugserver.New(debugserver.Options{Dir: dir, Logger: zaptest.NewLogger(t)}, debugserver.Sources{Service: "vigil"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(srv.Socket()); err == nil {
			return srv
		}
		if time.Now().After(deadline) {
			t.Fatal("socket never appeared")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestSocketOfAnotherUserRefused: a socket file another user owns is not
// talked to: its answers could come from that user's process. Before
// issue 16 diag connected to any socket it could open.
func TestSocketOfAnotherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a socket to another user")
	}
	srv := serve(t, t.TempDir())
	c, err := client.New(client.Target{Socket: srv.Socket()})
	if err != nil {
		t.Fatalf("our own socket: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := c.Info(ctx); err != nil {
		t.Fatalf("our own socket: %v", err)
	}
	if p, err := c.Peer(ctx); err != nil || p.PID != os.Getpid() || p.UID != os.Geteuid() {
		t.Errorf("Peer = %+v, %v; want this process (pid %d, uid %d)", p, err, os.Getpid(), os.Geteuid())
	}
	c.Close()

	if err := os.Chown(srv.Socket(), nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, err = client.New(client.Target{Socket: srv.Socket()})
	if err == nil || !strings.Contains(err.Error(), srv.Socket()) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("socket owned by uid %d: %v; want a refusal naming it and its owner", nobody, err)
	}
	if !errors.Is(err, debugserver.ErrNotOwned) {
		t.Errorf("error %v does not wrap ErrNotOwned", err)
	}
}

// TestSocketServedByAnotherUserRefused: the socket file is ours, but the
// process listening on it runs as another user (SO_PEERCRED says so):
// refused on connect.
func TestSocketServedByAnotherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a listener as another user")
	}
	// The other user must be able to run the test binary and write the
	// socket: a copy in an open folder.
	// (t.TempDir's parent is private.)
	open, err := os.MkdirTemp("", "diag-client-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(open) })
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(open, "listener")
	copyFile(t, self, bin)
	path := filepath.Join(open, "vigil-1.sock")
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), listenEnv+"="+path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line := make([]byte, len("listening"))
	if _, err := io.ReadFull(out, line); err != nil {
		t.Fatalf("listener as uid %d did not start: %v", nobody, err)
	}
	// The file is made ours: only the kernel's word on the peer is left
	// to tell.
	if err := os.Chown(path, os.Geteuid(), os.Getegid()); err != nil {
		t.Fatal(err)
	}
	_, err = client.DialSocket(ctx, path)
	want := fmt.Sprintf("served by pid %d of uid %d", cmd.Process.Pid, nobody)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("socket served by uid %d: %v; want a refusal saying %q", nobody, err, want)
	}
}

// TestTokenFileReadableByOthersRefused: the token opens the whole debug
// API, so a token file others can read is refused, saying how to fix it.
func TestTokenFileReadableByOthersRefused(t *testing.T) {
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte("s3cr3t-token-0123456789\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(client.Target{Addr: "127.0.0.1:1", TokenFile: tokenFile}); err != nil {
		t.Fatalf("token file of mode 0600: %v", err)
	}
	if err := os.Chmod(tokenFile, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := client.New(client.Target{Addr: "127.0.0.1:1", TokenFile: tokenFile})
	if err == nil || !strings.Contains(err.Error(), "chmod 600 "+tokenFile) {
		t.Fatalf("token file of mode 0644: %v; want a refusal saying chmod 600 %s", err, tokenFile)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestAnswersBounded: a JSON answer that never ends is cut at MaxJSON
// with an error saying so, and diag stops reading there (the server sent
// little more); one that announces more than its cap is refused unread.
func TestAnswersBounded(t *testing.T) {
	var sent debugtest.Counter
	srv := debugtest.Start(t, debugtest.Options{Wrap: func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case debugserver.Prefix + "heartbeats":
				sent.W = w
				if _, err := io.WriteString(&sent, `{"status": "ok", "heartbeats": "`); err != nil {
					return
				}
				chunk := []byte(strings.Repeat("a", 1<<20))
				for r.Context().Err() == nil {
					if _, err := sent.Write(chunk); err != nil {
						return
					}
				}
			case debugserver.Prefix + "info":
				w.Header().Set("Content-Length", strconv.Itoa(1<<30))
				_, _ = io.WriteString(w, `{"service": "vigil"`)
			default:
				api.ServeHTTP(w, r)
			}
		})
	}})
	c, err := client.New(client.Target{Socket: srv.Socket})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	_, err = c.Heartbeats(ctx)
	want := "GET " + debugserver.Prefix + "heartbeats is larger than 64 MiB"
	if !client.IsTooLarge(err) || !strings.Contains(err.Error(), want) {
		t.Fatalf("endless heartbeats: %v; want an error saying %q", err, want)
	}
	if n := sent.N(); n > client.MaxJSON+32<<20 {
		t.Errorf("the server sent %d MiB; diag should have stopped reading at %d MiB", n>>20, client.MaxJSON>>20)
	}
	_, err = c.Info(ctx)
	if !client.IsTooLarge(err) || !strings.Contains(err.Error(), "info is larger than 64 MiB") {
		t.Errorf("info announcing 1 GiB: %v; want it refused as too large", err)
	}
	// Within its cap an answer is read whole.
	if _, err := c.Bundles(ctx); err != nil {
		t.Errorf("bundles: %v", err)
	}
}
