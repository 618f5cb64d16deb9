package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"time"

	"github.com/vigilhq/vigil/scheduler"
)

var _ scheduler.Claimer = (*Store)(nil)

// Several schedulers share one database this way (docs/ARCHITECTURE.md,
// "Several schedulers"): each beats in the schedulers table by the
// database's clock, so that clock skew between machines does not count;
// each run has one owner; Apply fences a change with Change.Owner.

// Beat records that scheduler instance is alive now, by the database's
// clock; stopped records that it stopped cleanly.
func (s *Store) Beat(ctx context.Context, instance string, stopped bool) error {
	ctx, cancel := s.call(ctx, "Beat")
	defer cancel()
	_, err := s.db.ExecContext(ctx, `
		INSERT INTO schedulers (instance, last_beat, started_at, stopped_at)
		VALUES ($1, now(), now(), CASE WHEN $2 THEN now() END)
		ON CONFLICT (instance) DO UPDATE SET last_beat = now(), stopped_at = excluded.stopped_at`, instance, stopped)
	if err != nil {
		return fmt.Errorf("beat %s: %w", instance, err)
	}
	return nil
}

// ClaimRuns makes me the owner of up to limit running runs: first those
// whose owner stopped or has not beaten for staleAfter (or never beat),
// then, unless staleOnly, those with no owner; oldest key first within
// each. Rows another scheduler is claiming at the same moment, or that an
// Apply is fencing against, are skipped, not waited for (FOR UPDATE SKIP
// LOCKED), so each run goes to one claimer.
//
// The owner's freshness is a correlated subquery, not a join: when a row
// changed under the scan, PostgreSQL re-checks the WHERE clause on the new
// version (READ COMMITTED), and a LEFT JOIN would re-use the old row's
// missing match, taking a run another scheduler had just claimed
// (TestClaimRunsOnce found this). The re-check still reads the schedulers
// table as of the statement's start, hence the two statements below.
func (s *Store) ClaimRuns(ctx context.Context, me string, staleAfter time.Duration, limit int, staleOnly bool) ([]scheduler.Claim, error) {
	ctx, cancel := s.call(ctx, "ClaimRuns")
	defer cancel()
	if limit <= 0 {
		return nil, nil
	}
	var claims []scheduler.Claim
	// Two statements, so that the second sees every commit made before
	// it. In one statement (a CTE that locks and updates), a run another
	// scheduler claimed meanwhile was re-checked by PostgreSQL against
	// the statement's old snapshot, where that scheduler's first beat was
	// not visible yet: it looked stale, and its run was taken from it
	// (TestClaimRunsOnce, CI, 2026-12-07). Now the first statement locks
	// candidates; the second, with a new snapshot and the locks held,
	// claims those still claimable (the same condition, checked again).
	err := s.inTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var dags, runs []string
		rows, err := tx.QueryContext(ctx, `
			SELECT r.dag_id, r.run_id FROM runs r
			WHERE r.state = 'running' AND (
					(r.owner IS NULL AND NOT $4) OR
					(r.owner <> $1 AND NOT EXISTS (
						SELECT 1 FROM schedulers sc
						WHERE sc.instance = r.owner AND sc.stopped_at IS NULL
							AND sc.last_beat >= now() - make_interval(secs => $2))))
			ORDER BY r.owner IS NULL, r.dag_id, r.run_id
			LIMIT $3
			FOR UPDATE OF r SKIP LOCKED`, me, staleAfter.Seconds(), limit, staleOnly)
		if err != nil {
			return err
		}
		for rows.Next() {
			var d, r string
			if err := rows.Scan(&d, &r); err != nil {
				rows.Close()
				return err
			}
			dags, runs = append(dags, d), append(runs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(runs) == 0 {
			return err
		}
		rows, err = tx.QueryContext(ctx, `
			WITH candidates AS (
				SELECT r.dag_id, r.run_id, r.owner,
					COALESCE((SELECT EXTRACT(EPOCH FROM (now() - sc.last_beat)) FROM schedulers sc WHERE sc.instance = r.owner), -1) AS stale_s,
					COALESCE((SELECT sc.stopped_at IS NOT NULL FROM schedulers sc WHERE sc.instance = r.owner), false) AS stopped
				FROM runs r
				WHERE (r.dag_id, r.run_id) IN (SELECT * FROM unnest($5::text[], $6::text[]))
					AND r.state = 'running' AND (
					(r.owner IS NULL AND NOT $4) OR
					(r.owner <> $1 AND NOT EXISTS (
						SELECT 1 FROM schedulers sc
						WHERE sc.instance = r.owner AND sc.stopped_at IS NULL
							AND sc.last_beat >= now() - make_interval(secs => $2))))
				LIMIT $3
			)
			UPDATE runs r SET owner = $1, owner_since = now()
			FROM candidates c WHERE r.dag_id = c.dag_id AND r.run_id = c.run_id
			RETURNING r.dag_id, r.run_id, COALESCE(c.owner, ''), c.stale_s, c.stopped`,
			me, staleAfter.Seconds(), limit, staleOnly, dags, runs)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c scheduler.Claim
			var staleS float64
			if err := rows.Scan(&c.DAGID, &c.RunID, &c.From, &staleS, &c.FromStopped); err != nil {
				return err
			}
			switch {
			case c.From == "":
			case staleS < 0:
				c.StaleFor = -1
			default:
				c.StaleFor = time.Duration(staleS * float64(time.Second))
			}
			claims = append(claims, c)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("claim runs for %s: %w", me, err)
	}
	// UPDATE ... RETURNING gives no order; claims are handled oldest key
	// first.
	slices.SortFunc(claims, func(a, b scheduler.Claim) int {
		return cmp.Or(cmp.Compare(a.DAGID, b.DAGID), cmp.Compare(a.RunID, b.RunID))
	})
	return claims, nil
}

// RunOwner returns the scheduler that owns a run ("" for none), or
// scheduler.ErrNotFound.
func (s *Store) RunOwner(ctx context.Context, dagID, runID string) (string, error) {
	ctx, cancel := s.call(ctx, "RunOwner")
	defer cancel()
	var owner sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT owner FROM runs WHERE dag_id = $1 AND run_id = $2`, dagID, runID).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("owner of run %s/%s: %w", dagID, runID, notFound(err))
	}
	return owner.String, nil
}
