package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// LockWait is a session of the store's database waiting for a lock, and
// one session holding it, as pg_locks and pg_stat_activity tell. A
// session that waits behind several holders gives one LockWait each.
type LockWait struct {
	Waiter Session `json:"waiter"`
	// Lock is what the waiter asks for: the lock type ("relation",
	// "tuple", "transactionid", ...), the table if there is one, and the
	// mode ("AccessShareLock", ...).
	Lock     string    `json:"lock"`
	Relation string    `json:"relation,omitempty"`
	Mode     string    `json:"mode"`
	Since    time.Time `json:"waiting_since,omitzero"` // PostgreSQL 14 and later
	Holder   Session   `json:"holder"`
	// HolderModes are the modes the holder has been granted on the same
	// lock target.
	HolderModes string `json:"holder_modes,omitempty"`
}

// Session is one backend of the server, from pg_stat_activity. The query
// of another user's session reads "<insufficient privilege>" unless the
// store's user may read all statistics (pg_read_all_stats).
type Session struct {
	PID         int       `json:"pid"`
	Application string    `json:"application_name,omitempty"`
	User        string    `json:"user,omitempty"`
	Client      string    `json:"client_addr,omitempty"`
	State       string    `json:"state,omitempty"`
	Query       string    `json:"query,omitempty"`
	XactStart   time.Time `json:"xact_start,omitzero"`
	StateChange time.Time `json:"state_change,omitzero"`
}

// lockWaitsSQL lists the ungranted locks of the database's sessions with,
// through pg_blocking_pids, the sessions blocking each. waitstart is read
// through to_jsonb so the query also runs on servers before 14, which lack
// the column.
const lockWaitsSQL = `
SELECT w.pid, coalesce(w.application_name, ''), coalesce(w.usename::text, ''), coalesce(host(w.client_addr), ''),
       coalesce(w.state, ''), coalesce(w.query, ''), w.xact_start, w.state_change,
       wl.locktype, coalesce(wl.relation::regclass::text, ''), wl.mode,
       (to_jsonb(wl.*) ->> 'waitstart')::timestamptz,
       b.pid, coalesce(b.application_name, ''), coalesce(b.usename::text, ''), coalesce(host(b.client_addr), ''),
       coalesce(b.state, ''), coalesce(b.query, ''), b.xact_start, b.state_change,
       coalesce((SELECT string_agg(DISTINCT hl.mode, ',') FROM pg_locks hl
                 WHERE hl.pid = b.pid AND hl.granted AND hl.locktype = wl.locktype
                   AND hl.relation IS NOT DISTINCT FROM wl.relation
                   AND hl.transactionid IS NOT DISTINCT FROM wl.transactionid), '')
FROM pg_locks wl
JOIN pg_stat_activity w ON w.pid = wl.pid
CROSS JOIN LATERAL unnest(pg_blocking_pids(wl.pid)) AS bp(pid)
JOIN pg_stat_activity b ON b.pid = bp.pid
WHERE NOT wl.granted AND w.datname = current_database()
ORDER BY 12 NULLS LAST, w.pid, b.pid
LIMIT 200`

// LockWaits returns who waits for a lock in the store's database and who
// holds it. It runs on a connection of its own, not one of the store's
// pool: when the database is stuck on a lock the pool's connections may
// all be waiting behind it. Bound ctx: a diagnostic must not wait long.
func (s *Store) LockWaits(ctx context.Context) ([]LockWait, error) {
	ctx, cancel := s.call(ctx, "LockWaits")
	defer cancel()
	cfg := s.cfg.Copy()
	cfg.RuntimeParams["application_name"] = "vigil lock report"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("lock report: connect: %w", err)
	}
	defer func() {
		// Close on a context of its own: ctx may have ended.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	rows, err := conn.Query(ctx, lockWaitsSQL)
	if err != nil {
		return nil, fmt.Errorf("lock report: %w", err)
	}
	defer rows.Close()
	var out []LockWait
	for rows.Next() {
		var lw LockWait
		var wx, ws, since, bx, bs *time.Time
		err := rows.Scan(&lw.Waiter.PID, &lw.Waiter.Application, &lw.Waiter.User, &lw.Waiter.Client,
			&lw.Waiter.State, &lw.Waiter.Query, &wx, &ws,
			&lw.Lock, &lw.Relation, &lw.Mode, &since,
			&lw.Holder.PID, &lw.Holder.Application, &lw.Holder.User, &lw.Holder.Client,
			&lw.Holder.State, &lw.Holder.Query, &bx, &bs, &lw.HolderModes)
		if err != nil {
			return nil, fmt.Errorf("lock report: %w", err)
		}
		lw.Waiter.XactStart, lw.Waiter.StateChange = deref(wx), deref(ws)
		lw.Holder.XactStart, lw.Holder.StateChange = deref(bx), deref(bs)
		lw.Since = deref(since)
		out = append(out, lw)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("lock report: %w", err)
	}
	return out, nil
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// DescribeLockWaits says in one line who holds the locks others wait for,
// for an error message: `pid 4242 ("psql", user vigil, idle in
// transaction since 12:00:01Z, last query "LOCK TABLE task_instances IN
// ACCESS EXCLUSIVE MODE") holds AccessExclusiveLock on task_instances,
// which 3 sessions wait for`. It is "" when nobody waits.
func DescribeLockWaits(waits []LockWait) string {
	type key struct {
		pid  int
		what string
	}
	var order []key
	count := map[key]int{}
	first := map[key]LockWait{}
	for _, w := range waits {
		k := key{w.Holder.PID, w.Lock + " " + w.Relation}
		if _, seen := count[k]; !seen {
			order = append(order, k)
			first[k] = w
		}
		count[k]++
	}
	var parts []string
	for _, k := range order {
		w := first[k]
		h := w.Holder
		var b strings.Builder
		fmt.Fprintf(&b, "pid %d (%q", h.PID, h.Application)
		if h.User != "" {
			fmt.Fprintf(&b, ", user %s", h.User)
		}
		if h.Client != "" {
			fmt.Fprintf(&b, ", from %s", h.Client)
		}
		if h.State != "" {
			fmt.Fprintf(&b, ", %s", h.State)
			if !h.StateChange.IsZero() {
				fmt.Fprintf(&b, " since %s", h.StateChange.Format(time.RFC3339))
			}
		}
		fmt.Fprintf(&b, ", last query %q) holds ", truncate(h.Query, 120))
		if w.HolderModes != "" {
			b.WriteString(w.HolderModes)
		} else {
			b.WriteString("a conflicting lock")
		}
		if w.Relation != "" {
			fmt.Fprintf(&b, " on %s", w.Relation)
		} else {
			fmt.Fprintf(&b, " (%s lock)", w.Lock)
		}
		if n := count[k]; n == 1 {
			fmt.Fprintf(&b, ", which pid %d waits for (%s)", w.Waiter.PID, w.Mode)
		} else {
			fmt.Fprintf(&b, ", which %d sessions wait for", n)
		}
		parts = append(parts, b.String())
	}
	return strings.Join(parts, "; ")
}

func truncate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "..."
	}
	return s
}
