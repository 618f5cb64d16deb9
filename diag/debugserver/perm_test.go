package debugserver_test

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/diag/debugserver"
)

// nobody is the uid that test files are given to stand for another user.
const nobody = 65534

// foreignDir returns an existing folder owned by another user: one made
// here and given to nobody when the test runs as root, else the system's
// temporary folder when root owns it.
func foreignDir(t *testing.T) string {
	t.Helper()
	if os.Geteuid() == 0 {
		dir := filepath.Join(t.TempDir(), "theirs")
		if err := os.Mkdir(dir, 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o777); err != nil { // past the umask
			t.Fatal(err)
		}
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	if fi, err := os.Stat(os.TempDir()); err == nil && fi.Mode().Perm()&0o002 != 0 {
		return os.TempDir() // root's /tmp: world-writable, not ours
	}
	t.Skip("needs root, or a world-writable temporary folder of another user")
	return ""
}

// TestRuntimeDirOfAnotherUserRefused: a runtime folder someone else owns
// (a pre-created /tmp/vigil-UID) used to be taken as it was, socket and
// all; now the server refuses to start, naming the folder, its owner and
// mode, and what to do.
func TestRuntimeDirOfAnotherUserRefused(t *testing.T) {
	dir := foreignDir(t)
	_, err := debugserver.New(debugserver.Options{Dir: dir}, debugserver.Sources{})
	if err == nil {
		t.Fatalf("a runtime folder of another user (%s) was accepted", dir)
	}
	for _, want := range []string{dir, "owned by uid", "0777", "--runtime-dir"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
	if ents, _ := filepath.Glob(filepath.Join(dir, "vigil-*.sock")); len(ents) > 0 {
		t.Errorf("sockets created in the foreign folder: %v", ents)
	}
}

// TestRuntimeDirCreatedPrivateAndTightened: a missing folder (and its
// missing parents) are created 0700; an existing one of ours that others
// may enter is tightened to 0700; the socket is 0600.
func TestRuntimeDirCreatedPrivateAndTightened(t *testing.T) {
	t.Run("created", func(t *testing.T) {
		parent := filepath.Join(t.TempDir(), "a")
		dir := filepath.Join(parent, "run")
		srv := start(t, debugserver.Options{Dir: dir}, debugserver.Sources{})
		for path, want := range map[string]os.FileMode{parent: 0o700, dir: 0o700, srv.Socket(): 0o600} {
			if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != want {
				t.Errorf("%s: mode %v (%v), want %#o", path, fi.Mode().Perm(), err, want)
			}
		}
	})
	t.Run("tightened", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "run")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		start(t, debugserver.Options{Dir: dir}, debugserver.Sources{})
		if fi, err := os.Stat(dir); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: mode %v (%v), want 0700", dir, fi.Mode().Perm(), err)
		}
	})
	t.Run("symbolic link refused", func(t *testing.T) {
		base := t.TempDir()
		link := filepath.Join(base, "run")
		if err := os.Symlink(t.TempDir(), link); err != nil {
			t.Fatal(err)
		}
		_, err := debugserver.New(debugserver.Options{Dir: link}, debugserver.Sources{})
		if err == nil || !strings.Contains(err.Error(), "symbolic link") {
			t.Fatalf("runtime folder that is a symbolic link: %v; want a refusal", err)
		}
	})
}

// TestSocketOfAnotherUserRefused: a socket at our path owned by another
// user is not ours to remove and replace: start is refused.
func TestSocketOfAnotherUserRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give a socket to another user")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "vigil-1.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	_, err = debugserver.New(debugserver.Options{Dir: dir, Socket: path}, debugserver.Sources{})
	if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("socket of another user: %v; want a refusal naming it and its owner", err)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Errorf("the other user's socket was removed or replaced: %v", err)
	}
}

// TestTokenFileReadableByOthersRefused: the token opens the whole debug
// API; a 0644 token file used to be accepted.
func TestTokenFileReadableByOthersRefused(t *testing.T) {
	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		tokenFile := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(tokenFile, []byte("s3cr3t-token-0123456789\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(tokenFile, mode); err != nil {
			t.Fatal(err)
		}
		_, err := debugserver.New(debugserver.Options{Dir: t.TempDir(), TCPAddr: "127.0.0.1:0", TokenFile: tokenFile}, debugserver.Sources{})
		if err == nil || !strings.Contains(err.Error(), "chmod 600 "+tokenFile) {
			t.Errorf("token file of mode %#o: %v; want a refusal saying chmod 600 %s", mode, err, tokenFile)
		}
		if _, err := debugserver.ReadToken(tokenFile); err == nil {
			t.Errorf("ReadToken accepted mode %#o", mode)
		}
	}
}
