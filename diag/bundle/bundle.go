// Package bundle writes diagnostic bundles: one tar.gz holding everything
// needed to understand a stuck or misbehaving process after it is gone.
//
// The watchdog writes one before it lets the liveness probe fail (the
// restart that follows throws away everything in memory: incident 4 in
// DESIGN.md), `diag bundle` asks for one through the debug API, and
// `diag restart` writes one before restarting anything.
//
// A bundle is made of parts, each a file in the archive written by a
// function of the process's own (stacks, in-flight calls, profiles, ...).
// Parts run concurrently under one deadline, so two 2-second profiles cost
// two seconds; a part that fails or times out leaves an error file
// (NAME.error.txt) instead of stopping the others. A part that reads a
// resource which may be the stuck one (the database) gets a short deadline
// of its own (Part.Timeout), and the writer waits for no part much past its
// deadline: it keeps what the part wrote so far and moves on, so the
// evidence is not held up by the thing it is evidence of (issue 16). The first file,
// SUMMARY.txt, says why the bundle was written and what was found, and
// MANIFEST.json lists every part with its size, time taken and error.
//
// Bundles live in one directory, named
// vigil-bundle-20261123T120501Z-stale.tar.gz; the writer keeps the newest
// Keep of them and truncates a part past MaxPartBytes, so the directory
// stays bounded however often the watchdog fires.
package bundle

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// Part is one file of a bundle.
type Part struct {
	// Name is the file name in the archive, e.g. "stacks.txt".
	Name string
	// Write writes the part's content; it should honour ctx.
	Write func(ctx context.Context, w io.Writer) error
	// Timeout, if set, is the part's own deadline, shorter than the
	// bundle's.
	Timeout time.Duration
}

// partGrace is how long past its deadline the writer waits for a part to
// return (to say why it stopped) before it keeps what the part wrote and
// leaves it behind.
const partGrace = time.Second

// Options configure a Writer.
type Options struct {
	// Dir is where bundles are written; created with mode 0700.
	Dir string
	// Fallbacks are folders tried in order when Dir cannot be written
	// (a read-only or full volume). Each is created with mode 0700 and
	// used only if it is this user's and closed to others.
	Fallbacks []string
	// Keep is how many bundles are kept; the oldest are removed, those
	// written for a Protected reason last. 10 by default.
	Keep int
	// Protected are reasons whose bundles are evicted only when every
	// bundle kept has one (the watchdog's "stale"): a run of on-demand
	// bundles never pushes out the evidence of a stall.
	Protected []string
	// MaxPartBytes truncates a part past this size; 64 MiB by default.
	MaxPartBytes int64
	// Timeout bounds the parts of one bundle; 30s by default.
	Timeout time.Duration
	// Parts are the files of every bundle, in archive order.
	Parts []Part
	// Summary returns the summary's findings, written after the reason
	// line. It runs before the parts, so it sees the state that caused
	// the bundle, not the state the parts' profiling left.
	Summary func() string
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// Writer writes bundles into a directory. One bundle is written at a time;
// a request that arrives while one is being written waits for it.
type Writer struct {
	opts Options
	mu   sync.Mutex // serialises Write and the pruning of Dir
	// written counts the bundles stored, by Class of their reason.
	written map[string]int64
}

// Reason classes, the label of Written: a Protected reason is its own
// class (the watchdog's "stale"); any other reason (free text from
// `diag bundle --reason`) is "requested", so the label stays bounded.
const ReasonRequested = "requested"

// Class returns the Written label of a reason.
func (w *Writer) Class(reason string) string {
	if slices.Contains(w.opts.Protected, reason) {
		return reason
	}
	return ReasonRequested
}

// Written returns the bundles stored since New, by Class of their reason.
func (w *Writer) Written() map[string]int64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return maps.Clone(w.written)
}

// New returns a Writer; it creates Dir.
func New(opts Options) (*Writer, error) {
	if opts.Dir == "" {
		return nil, errors.New("bundle: Dir is required")
	}
	if opts.Keep <= 0 {
		opts.Keep = 10
	}
	if opts.MaxPartBytes <= 0 {
		opts.MaxPartBytes = 64 << 20
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("bundle directory: %w", err)
	}
	return &Writer{opts: opts}, nil
}

// Dir returns the bundle directory.
func (w *Writer) Dir() string { return w.opts.Dir }

// Info describes a written bundle; it is what the debug API sends.
type Info = debugapi.BundleInfo

// ManifestEntry is one part as recorded in MANIFEST.json.
type ManifestEntry struct {
	Name      string        `json:"name"`
	Size      int64         `json:"size"`
	Took      time.Duration `json:"took_ns"`
	Truncated bool          `json:"truncated,omitempty"`
	Error     string        `json:"error,omitempty"`
}

type partResult struct {
	data      []byte
	took      time.Duration
	truncated bool
	err       error
}

// unsafeChars are replaced in a reason to make the name's tag: '.' too,
// so that no name holds ".." (CheckName).
var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// Write writes a bundle now. reason is a short word for the file name and
// the first line of the summary ("stale", "on-demand", "restart"). When
// Dir cannot be written, the Fallbacks are tried; Info.DirError then says
// why Dir was not used. If no folder takes the bundle, the error is
// returned with the Info still holding the Summary, for the caller to log.
func (w *Writer) Write(ctx context.Context, reason string) (Info, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	start := w.opts.Now()
	summary := fmt.Sprintf("bundle written %s, reason: %s\n", start.UTC().Format(time.RFC3339), reason)
	if w.opts.Summary != nil {
		summary += w.opts.Summary()
	}

	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	results := make([]partResult, len(w.opts.Parts))
	var wg sync.WaitGroup
	for i, p := range w.opts.Parts {
		wg.Go(func() { results[i] = w.runPart(ctx, p) })
	}
	wg.Wait()

	tag := strings.Trim(unsafeChars.ReplaceAllString(reason, "-"), "-")
	if tag == "" {
		tag = "bundle"
	}
	name := fmt.Sprintf("vigil-bundle-%s-%s.tar.gz", start.UTC().Format("20060102T150405.000Z"), tag)
	name = strings.Replace(name, ".", "", 1) // 20261123T120501.123Z -> 20261123T120501123Z
	info := Info{Name: name, Path: filepath.Join(w.opts.Dir, name), Time: start, Reason: reason, Summary: summary}

	var manifest []ManifestEntry
	files := []file{{name: "SUMMARY.txt", data: []byte(summary)}}
	for i, p := range w.opts.Parts {
		r := results[i]
		m := ManifestEntry{Name: p.Name, Size: int64(len(r.data)), Took: r.took, Truncated: r.truncated}
		if len(r.data) > 0 || r.err == nil {
			files = append(files, file{name: p.Name, data: r.data})
		}
		if r.err != nil {
			m.Error = r.err.Error()
			info.Errors = append(info.Errors, p.Name+": "+m.Error)
			files = append(files, file{name: p.Name + ".error.txt", data: []byte(m.Error + "\n")})
		}
		manifest = append(manifest, m)
	}
	mj, _ := json.MarshalIndent(struct {
		Reason string          `json:"reason"`
		Time   time.Time       `json:"time"`
		Parts  []ManifestEntry `json:"parts"`
	}{reason, start.UTC(), manifest}, "", "  ")
	files = append(files[:1], append([]file{{name: "MANIFEST.json", data: mj}}, files[1:]...)...)

	size, err := w.store(&info, strings.TrimSuffix(name, ".tar.gz"), start, files)
	if err != nil {
		// The summary says what was stuck: the caller logs it.
		return info, err
	}
	info.Size = size
	info.Took = w.opts.Now().Sub(start)
	if w.written == nil {
		w.written = map[string]int64{}
	}
	w.written[w.Class(reason)]++
	if err := w.prune(); err != nil {
		return info, err
	}
	return info, nil
}

func (w *Writer) runPart(ctx context.Context, p Part) partResult {
	start := time.Now()
	if p.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.Timeout)
		defer cancel()
	}
	buf := &capped{max: w.opts.MaxPartBytes}
	done := make(chan error, 1)
	go func() {
		defer func() {
			if v := recover(); v != nil {
				done <- fmt.Errorf("part %s panicked: %v", p.Name, v)
			}
		}()
		done <- p.Write(ctx, buf)
	}()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		grace := time.NewTimer(partGrace)
		select {
		case err = <-done:
		case <-grace.C:
			// The part is blocked on something that ignores its context;
			// it is left running, and stacks.txt shows where.
			err = fmt.Errorf("did not return within %s of its deadline (%w); kept what it wrote by then", partGrace, ctx.Err())
		}
		grace.Stop()
	}
	if err != nil && ctx.Err() != nil {
		took := time.Since(start).Round(10 * time.Millisecond)
		err = fmt.Errorf("timed out after %s: %w", took, err)
	}
	data, truncated := buf.snapshot()
	return partResult{data: data, took: time.Since(start), truncated: truncated, err: err}
}

type file struct {
	name string
	data []byte
}

// writeArchive writes files into a tar.gz at path, through a temporary
// file renamed into place, so a reader never sees half a bundle.
func writeArchive(path, root string, mod time.Time, files []file) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".partial-*")
	if err != nil {
		return 0, fmt.Errorf("write bundle: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	gz := gzip.NewWriter(tmp)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		hdr := &tar.Header{Name: root + "/" + f.name, Mode: 0o600, Size: int64(len(f.data)), ModTime: mod, Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			tmp.Close()
			return 0, fmt.Errorf("write bundle: %w", err)
		}
		if _, err := tw.Write(f.data); err != nil {
			tmp.Close()
			return 0, fmt.Errorf("write bundle: %w", err)
		}
	}
	err = errors.Join(tw.Close(), gz.Close(), tmp.Sync())
	st, statErr := tmp.Stat()
	err = errors.Join(err, statErr, tmp.Close())
	if err != nil {
		return 0, fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return 0, fmt.Errorf("write bundle: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return 0, fmt.Errorf("write bundle: %w", err)
	}
	return st.Size(), nil
}

// List returns the bundles in the directory and the fallback folders,
// newest first.
func (w *Writer) List() ([]Info, error) {
	out, err := List(w.opts.Dir)
	for _, dir := range w.opts.Fallbacks {
		more, ferr := List(dir)
		if ferr != nil {
			continue // a fallback never used does not exist
		}
		out = append(out, more...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	if err != nil && len(out) > 0 {
		err = nil // the bundle folder is gone, the fallbacks answer
	}
	return out, err
}

// List returns the bundles in dir, newest first. Anyone holding the
// directory (a restarted process, `diag bundle ls`) can list it.
func List(dir string) ([]Info, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list bundles: %w", err)
	}
	var out []Info
	for _, e := range ents {
		if e.IsDir() || !strings.HasPrefix(e.Name(), "vigil-bundle-") || !strings.HasSuffix(e.Name(), ".tar.gz") {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		path := filepath.Join(dir, e.Name())
		out = append(out, Info{Name: e.Name(), Path: path, Size: fi.Size(), Time: fi.ModTime(), Summary: readSummary(path)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name > out[j].Name })
	return out, nil
}

// maxSummary bounds how much of a bundle's summary List reads.
const maxSummary = 16 << 10

// readSummary returns the SUMMARY.txt a bundle starts with, or "" if it
// cannot be read (a bundle being written, or damaged): the listing shows
// what it can.
func readSummary(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return ""
	}
	tr := tar.NewReader(gz)
	h, err := tr.Next()
	if err != nil || !strings.HasSuffix(h.Name, "/SUMMARY.txt") {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(tr, maxSummary))
	if err != nil {
		return ""
	}
	return string(b)
}

// Open opens the bundle called name in the directory or a fallback
// folder. The name must be one List returns: a path outside them is
// refused.
func (w *Writer) Open(name string) (*os.File, error) {
	if err := CheckName(name); err != nil {
		return nil, fmt.Errorf("%w (see the list)", err)
	}
	var first error
	for _, dir := range append([]string{w.opts.Dir}, w.opts.Fallbacks...) {
		f, err := os.Open(filepath.Join(dir, name))
		if err == nil {
			return f, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}

// capped is a buffer that keeps its first max bytes and counts the rest.
// (Not an embedded bytes.Buffer: its WriteString would bypass the cap.) A
// part left behind may still write to it while the bundle is read, hence
// the mutex.
type capped struct {
	mu        sync.Mutex
	buf       bytes.Buffer
	max       int64
	truncated bool
}

// snapshot returns a copy of what was written so far.
func (c *capped) snapshot() ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.buf.Bytes()), c.truncated
}

func (c *capped) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	room := c.max - int64(c.buf.Len())
	if int64(len(p)) > room {
		c.truncated = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	return c.buf.Write(p)
}

// ReadFiles returns the files of the bundle at path by their names inside
// the bundle ("SUMMARY.txt", "stacks.txt", ...). It is for tests and
// tools that inspect a bundle; it holds the whole bundle in memory.
func ReadFiles(path string) (map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read bundle %s: %w", path, err)
	}
	tr := tar.NewReader(gz)
	out := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %w", path, err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read bundle %s: %s: %w", path, h.Name, err)
		}
		_, name, _ := strings.Cut(h.Name, "/")
		out[name] = b
	}
}
