package profile

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/pprof/driver"
	pprofile "github.com/google/pprof/profile"
)

// This file runs google/pprof's own driver, the code behind `go tool
// pprof`, on a saved profile: every side effect it has goes through an
// interface declared in github.com/google/pprof/driver, and each is
// implemented here so that the report goes to diag's IOStreams, the
// profile comes only from the local file, and nothing touches the
// network except the web UI's listener on 127.0.0.1.
//
// The driver keeps its settings in package state (the last flags given
// are the defaults of the next run), so every run passes every setting
// it relies on, and runs are not made concurrently.

// WriteTop prints the top n entries of the pprof profile in file to w,
// as `go tool pprof -top -nodecount=n file` would. Messages the driver
// has for the user go to errOut.
func WriteTop(w, errOut io.Writer, file string, n int) error {
	fetch := &fileFetcher{}
	return fetch.why(driver.PProf(&driver.Options{
		// -output names the report's destination, which Writer maps to
		// w: without it the driver writes to os.Stdout itself.
		Flagset:       newFlags("-top", "-nodecount="+strconv.Itoa(n), "-output="+reportSink, "--", file),
		Writer:        sinkWriter{w},
		Fetch:         fetch,
		Sym:           noSymbolizer{},
		UI:            &lineUI{w: errOut},
		HTTPTransport: noNetwork{},
	}))
}

// ServeWeb serves google/pprof's web UI (flame graph, graph, top, source)
// on the profile in file, on a free port of 127.0.0.1, until ctx ends.
// ready is called with the UI's address once it accepts connections.
func ServeWeb(ctx context.Context, errOut io.Writer, file string, ready func(url string)) error {
	fetch := &fileFetcher{}
	return fetch.why(driver.PProf(&driver.Options{
		Flagset:       newFlags("-http=127.0.0.1:0", "-no_browser", "-nodecount=-1", "-output=", "--", file),
		Fetch:         fetch,
		Sym:           noSymbolizer{},
		UI:            &lineUI{w: errOut},
		HTTPTransport: noNetwork{},
		HTTPServer: func(args *driver.HTTPServerArgs) error {
			return serveUI(ctx, args, ready)
		},
	}))
}

// serveUI is the driver's HTTP server: the driver hands it the handlers
// and the address from -http, and it serves them until ctx ends (the
// driver's own server never returns).
func serveUI(ctx context.Context, args *driver.HTTPServerArgs, ready func(url string)) error {
	host, _, err := net.SplitHostPort(args.Hostport)
	if err != nil || host != "127.0.0.1" {
		// Never a public interface: the profile shows the code and its
		// data, and the UI has no authentication.
		return fmt.Errorf("pprof web UI: refusing to listen on %q: only 127.0.0.1", args.Hostport)
	}
	ln, err := net.Listen("tcp", args.Hostport)
	if err != nil {
		return fmt.Errorf("pprof web UI: %w", err)
	}
	addr := ln.Addr().String()
	// As the driver's own server does: the UI under /ui/, so that its
	// relative links work, and / redirects there.
	mux := http.NewServeMux()
	mux.Handle("/ui/", http.StripPrefix("/ui", uiHandler(args.Handlers)))
	mux.Handle("/{$}", http.RedirectHandler("/ui/", http.StatusTemporaryRedirect))
	srv := &http.Server{
		Handler:           sameHost(addr, mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       time.Minute,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	ready("http://" + addr + "/ui/flamegraph")
	select {
	case err := <-errc:
		return fmt.Errorf("pprof web UI: %w", err)
	case <-ctx.Done():
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutCtx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("pprof web UI: %w", err)
	}
	return nil
}

// uiHandler routes to the driver's handlers by exact path; anything else
// is a 404 (the driver's server falls back to http.DefaultServeMux).
func uiHandler(handlers map[string]http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := handlers[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sameHost refuses requests whose Host is not the listener's own address:
// a web page that rebinds its DNS name to 127.0.0.1 could otherwise read
// the profile from the user's browser.
func sameHost(addr string, h http.Handler) http.Handler {
	_, port, _ := net.SplitHostPort(addr)
	ok := map[string]bool{addr: true, "localhost:" + port: true}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !ok[r.Host] {
			http.Error(w, "forbidden: open the address diag printed", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// reportSink is the -output name that sinkWriter maps to diag's output.
const reportSink = "diag-output"

// sinkWriter is the driver's Writer: every report goes to w.
type sinkWriter struct{ w io.Writer }

func (s sinkWriter) Open(string) (io.WriteCloser, error) { return nopCloser{s.w}, nil }

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// flags is the driver's FlagSet over a fixed argument list, on a flag
// set of its own (the driver's default parses os.Args into flag's global
// set).
type flags struct {
	fs    *flag.FlagSet
	args  []string
	extra []string
}

var _ driver.FlagSet = (*flags)(nil)

func newFlags(args ...string) *flags {
	fs := flag.NewFlagSet("pprof", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return &flags{fs: fs, args: args}
}

func (f *flags) Bool(name string, def bool, usage string) *bool { return f.fs.Bool(name, def, usage) }
func (f *flags) Int(name string, def int, usage string) *int    { return f.fs.Int(name, def, usage) }
func (f *flags) Float64(name string, def float64, usage string) *float64 {
	return f.fs.Float64(name, def, usage)
}
func (f *flags) String(name, def, usage string) *string { return f.fs.String(name, def, usage) }

// StringList takes one value, as the driver's own GoFlags does.
func (f *flags) StringList(name, def, usage string) *[]*string {
	return &[]*string{f.fs.String(name, def, usage)}
}
func (f *flags) ExtraUsage() string      { return strings.Join(f.extra, "\n") }
func (f *flags) AddExtraUsage(eu string) { f.extra = append(f.extra, eu) }

// Parse returns the profile file. The arguments are diag's own, so a
// failure here is a bug in diag; the driver then reports that no profile
// was given.
func (f *flags) Parse(usage func()) []string {
	if err := f.fs.Parse(f.args); err != nil || f.fs.NArg() == 0 {
		usage()
		return nil
	}
	return f.fs.Args()
}

// fileFetcher reads the profile from the local file only: a source the
// driver did not find as a file would otherwise be fetched as a URL. It
// keeps its error: the driver prints it and returns only "failed to
// fetch any source profiles".
type fileFetcher struct{ err error }

func (f *fileFetcher) Fetch(src string, _, _ time.Duration) (*pprofile.Profile, string, error) {
	p, err := readProfile(src)
	if err != nil {
		f.err = err
		return nil, "", err
	}
	// No source URL: the driver saves a copy under ~/pprof of any
	// profile that has one, taking it for a download.
	return p, "", nil
}

// why is the driver's error err, or the reason the profile could not be
// read when that is what it was.
func (f *fileFetcher) why(err error) error {
	if err != nil && f.err != nil {
		return f.err
	}
	return err
}

// noSymbolizer leaves profiles as they are: the Go runtime's profiles
// carry their function names and lines, and the driver's symbolizer
// would open the binaries the mappings name or ask a symbol server.
type noSymbolizer struct{}

func (noSymbolizer) Symbolize(string, driver.MappingSources, *pprofile.Profile) error { return nil }

// noNetwork is the driver's HTTP transport: it has nothing to fetch.
type noNetwork struct{}

func (noNetwork) RoundTrip(r *http.Request) (*http.Response, error) {
	return nil, fmt.Errorf("diag profile: the pprof driver has no network access (asked for %s)", r.URL.Redacted())
}

// lineUI is the driver's UI: no interactive input, messages to w.
type lineUI struct{ w io.Writer }

func (u *lineUI) ReadLine(string) (string, error) { return "", io.EOF }
func (u *lineUI) Print(args ...any)               { u.print(args) }
func (u *lineUI) PrintErr(args ...any)            { u.print(args) }
func (u *lineUI) IsTerminal() bool                { return false }
func (u *lineUI) WantBrowser() bool               { return false }
func (u *lineUI) SetAutoComplete(func(string) string) {
}

func (u *lineUI) print(args []any) {
	text := fmt.Sprint(args...)
	// "Generating report in diag-output" names our sink, not a file, and
	// "Serving web UI on http://127.0.0.1:0" the port before the
	// listener chose one; diag prints the real address itself.
	if strings.HasPrefix(text, "Generating report in ") || strings.HasPrefix(text, "Serving web UI on ") {
		return
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	io.WriteString(u.w, text)
}
