package profiles

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/felixge/fgprof"
)

// DefaultWallProfileDuration is WallProfileHandler's duration when the
// request has no ?seconds=.
const DefaultWallProfileDuration = 30 * time.Second

// WallProfile writes a pprof wall-clock profile of the next d to w: fgprof
// samples every goroutine's stack at 99 Hz, so time spent waiting (on the
// network, a lock, a channel) shows up beside time on CPU. This is the
// profile that explains a scheduler loop that is slow but not busy. If
// ctx ends first, w holds a valid, shorter profile and the error wraps
// ctx's.
func WallProfile(ctx context.Context, d time.Duration, w io.Writer) error {
	return wallProfile(ctx, d, w, fgprof.FormatPprof)
}

func wallProfile(ctx context.Context, d time.Duration, w io.Writer, format fgprof.Format) error {
	if d <= 0 {
		return fmt.Errorf("wall-clock profile duration %s: must be positive", d)
	}
	stop := fgprof.Start(w, format)
	sleep(ctx, d)
	if err := stop(); err != nil {
		return fmt.Errorf("write wall-clock profile: %w", err)
	}
	if ctx.Err() != nil {
		return fmt.Errorf("wall-clock profile cut short: %w", context.Cause(ctx))
	}
	return nil
}

// WallProfileHandler serves a wall-clock profile of ?seconds=N (default
// 30, at most MaxProfileDuration) in ?format=pprof (default) or
// ?format=folded (Brendan Gregg's folded stacks, as text). It stops early
// when the client goes away.
//
//	go tool pprof http://vigil-admin:6060/debug/vigil/wall?seconds=10
func WallProfileHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !onlyGet(w, r) {
			return
		}
		d, err := durationParam(r, DefaultWallProfileDuration, MaxProfileDuration)
		if err != nil {
			serveError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch format := fgprof.Format(r.FormValue("format")); format {
		case "", fgprof.FormatPprof:
			attachment(w, "application/octet-stream", "wall.pprof")
			_ = wallProfile(r.Context(), d, w, fgprof.FormatPprof)
		case fgprof.FormatFolded:
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			_ = wallProfile(r.Context(), d, w, fgprof.FormatFolded)
		default:
			serveError(w, http.StatusBadRequest, fmt.Sprintf("format=%q: want pprof or folded", format))
		}
	})
}
