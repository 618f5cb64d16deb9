package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Server is a PostgreSQL cluster of a test's own, for tests that restart
// or stop the server (the shared one of AdminEnv must stay up for the
// others).
type Server struct {
	t    testing.TB
	bin  string
	root string
	port int
	// URL reaches database "postgres" as user "postgres".
	URL string
}

// StartServer initialises and starts a throwaway cluster on a free
// loopback port in a temporary folder, stopped and removed when t ends.
// It needs Debian's postgresql package (make test installs it) and skips
// t without it, or when AdminEnv is unset (not under make test).
func StartServer(t testing.TB) *Server {
	t.Helper()
	if os.Getenv(AdminEnv) == "" {
		t.Skipf("%s is not set: run through testenv/kube/with-cluster.sh", AdminEnv)
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no initdb under /usr/lib/postgresql; make test installs Debian's postgresql package")
	}
	root, err := os.MkdirTemp("", "vigil-pgtest.")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: filepath.Dir(bins[len(bins)-1]), root: root, port: freePort(t)}
	t.Cleanup(func() {
		s.pgctl("stop", "-m", "immediate")
		os.RemoveAll(root)
	})
	if err := os.MkdirAll(filepath.Join(root, "sock"), 0o700); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// As root, the server runs as the postgres user (it refuses root).
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatal(err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		for _, p := range []string{root, filepath.Join(root, "sock")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.run(filepath.Join(s.bin, "initdb"), "-D", filepath.Join(root, "data"), "--auth=trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
	s.Start()
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	return s
}

// Start starts the server (again) and waits until it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	// synchronous_commit stays on: an immediate stop discards the commits
	// whose WAL was not yet written out, and a client that was told
	// "committed" would find its transaction gone (the first version of
	// TestDatabaseRestart saw exactly that). fsync=off is safe here: the
	// server stops, not the machine.
	s.pgctl("start", "-w", "-t", "60", "-l", filepath.Join(s.root, "postgres.log"), "-o",
		fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off",
			s.port, filepath.Join(s.root, "sock")))
}

// Stop stops the server the way a crash or a kill -9 of the postmaster's
// children would leave clients: every connection dropped at once.
func (s *Server) Stop() {
	s.t.Helper()
	s.pgctl("stop", "-w", "-m", "immediate")
}

func (s *Server) pgctl(args ...string) {
	s.run(filepath.Join(s.bin, "pg_ctl"), append([]string{"-D", filepath.Join(s.root, "data")}, args...)...)
}

func (s *Server) run(name string, args ...string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = s.root
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(s.root, "postgres.log"))
		s.t.Fatalf("%s %v: %v\n%s\nserver log:\n%s", name, args, err, out, log)
	}
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
