// Package console is Vigil's web console (issue 19): one page of plain
// HTML, CSS and JavaScript modules, embedded in the vigil binary, that
// works offline (no CDN, no external font) and talks only to the
// operations API (package api) and the process's debug API under
// /api/v1/debug/.
//
// `vigil run` serves Handler at / on the API's address, without a token:
// the page holds no data until the user pastes a token, which it keeps
// in sessionStorage and sends as a bearer token. Read-only tokens see
// every page; operator tokens also see the actions (trigger, pause,
// clear, mark).
//
// The console adds one route to the API, FlameGraphPath, which folds a
// fresh CPU or wall profile into a JSON tree (FlameGraphHandler) that the
// page draws itself.
//
// Pages, as hash routes of the one page:
//
//	#/signin                     paste a token
//	#/dags                       DAG list and the files that fail to load
//	#/dags/DAG                   runs grid: runs as columns, tasks as rows
//	#/dags/DAG/runs/RUN/tasks/T  a task: state, history, logs of each try
//	#/diagnostics                in-flight calls, goroutine groups, flame graph
//
// A health banner, polled from GET /api/v1/health, sits on every page.
package console

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var web embed.FS

// Handler serves the console's page and assets. Mount it at / (it
// answers only GET and HEAD); it needs no token, as it holds no data.
func Handler() http.Handler {
	sub, err := fs.Sub(web, "web")
	if err != nil {
		panic(err) // the embedded folder is there at build time
	}
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the console answers GET only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		// The page runs only its own scripts and talks only to its own
		// origin: a token pasted into it cannot leave for anywhere else.
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; "+
			"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		// Assets change with the binary; revalidate rather than serve a
		// stale script against a newer API.
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
