package profile

import (
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/diag/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
	"github.com/vigilhq/vigil/diag/client"
	"github.com/vigilhq/vigil/diag/debugserver"
	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
)

// serveHeap starts a debug API whose heap profile is what heap writes,
// counting what it sends.
func serveHeap(t *testing.T, heap func(w http.ResponseWriter, r *http.Request)) *debugtest.Server {
	t.Helper()
	return debugtest.Start(t, debugtest.Options{Wrap: func(api http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == debugserver.Prefix+"pprof/heap" {
				heap(w, r)
				return
			}
			api.ServeHTTP(w, r)
		})
	}})
}

// runProfile runs diag profile heap against the socket, saving into dir.
func runProfile(t *testing.T, socket, dir string) (string, error) {
	t.Helper()
	ios, _, out, errOut := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Now: time.Now, Target: &cmdutil.TargetFlags{Socket: socket, Timeout: time.Minute}}
	cmd := NewCmdProfile(f, nil)
	cmd.SetArgs([]string{"heap", "-f", dir + "/"})
	cmd.SetOut(out)
	cmd.SetErr(errOut)
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.ExecuteContext(t.Context())
	return out.String() + errOut.String(), err
}

// TestProfileGzipBombBounded: a scheduler (broken, or not one) serves a
// heap profile that is 1 GiB of zeros gzipped, about 1 MiB on the wire.
// diag used to hand it to google/pprof's parser, which decompresses all
// of it into memory (a 285 KB one cost 683 MB); now diag measures the
// decompressed size as a stream, stops at MaxInflated and says so, and
// what it allocates meanwhile stays far below either size.
func TestProfileGzipBombBounded(t *testing.T) {
	const bomb = 1 << 30
	var sent debugtest.Counter
	srv := serveHeap(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		sent.W = w
		if err := debugtest.GzipZeros(&sent, bomb); err != nil {
			t.Logf("gzip bomb: %v", err)
		}
	})
	dir := t.TempDir()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	out, err := runProfile(t, srv.Socket, dir)
	runtime.ReadMemStats(&after)
	want := "larger than 256 MiB once decompressed"
	if err == nil || !strings.Contains(err.Error(), want) || !client.IsTooLarge(err) {
		t.Fatalf("profile of a gzip bomb: %v; want an error saying %q\n%s", err, want, out)
	}
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("served %d bytes gzipped (%d decompressed); diag allocated %d MiB; %v", sent.N(), bomb, allocated>>20, err)
	if allocated > 64<<20 {
		t.Errorf("diag allocated %d MiB reading a %d KiB gzip bomb; want under 64 MiB", allocated>>20, sent.N()>>10)
	}
}

// TestProfileEndlessStreamBounded: a heap profile that never ends is cut
// at MaxStream, with an error saying so and no file left; the server
// sent little more than that.
func TestProfileEndlessStreamBounded(t *testing.T) {
	var sent debugtest.Counter
	srv := serveHeap(t, func(w http.ResponseWriter, r *http.Request) {
		sent.W = w
		chunk := []byte(strings.Repeat("x", 1<<20))
		for r.Context().Err() == nil {
			if _, err := sent.Write(chunk); err != nil {
				return
			}
		}
	})
	dir := t.TempDir()
	out, err := runProfile(t, srv.Socket, dir)
	want := "larger than 256 MiB"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("profile that never ends: %v; want an error saying %q\n%s", err, want, out)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("files left in %s: %v", dir, ents)
	}
	// What was sent is what was read, plus what the socket and the
	// server's buffers held when diag hung up.
	if n := sent.N(); n > client.MaxStream+32<<20 {
		t.Errorf("the server sent %d MiB; diag should have stopped reading at %d MiB", n>>20, client.MaxStream>>20)
	}
}

// TestReadProfileBounds: the file and its decompressed content are
// each bounded (here with small caps).
func TestReadProfileBounds(t *testing.T) {
	dir := t.TempDir()
	bomb := filepath.Join(dir, "bomb.pprof")
	f, err := os.Create(bomb)
	if err != nil {
		t.Fatal(err)
	}
	if err := debugtest.GzipZeros(f, 4<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, err := readProfileLimit(bomb, 1<<20, 2<<20); err == nil || !strings.Contains(err.Error(), "larger than 2 MiB once decompressed") {
		t.Errorf("4 MiB of zeros gzipped, 2 MiB cap: %v", err)
	}
	if _, err := readProfileLimit(bomb, 1<<10, 8<<20); !client.IsTooLarge(err) || !strings.Contains(err.Error(), "larger than 1024 bytes:") {
		t.Errorf("a file over its cap: %v", err)
	}
	// Under the caps it is read, and found not to be a profile.
	if _, err := readProfileLimit(bomb, 1<<20, 8<<20); err == nil || client.IsTooLarge(err) || !strings.Contains(err.Error(), "not a pprof profile") {
		t.Errorf("4 MiB of zeros under the caps: %v; want a parse error", err)
	}
}
