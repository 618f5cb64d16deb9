package sqlite

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/scheduler/store/internal/sqlcol"
)

// TestPurgeUsesEndedIndex: a retention batch reads the range of old ends
// from runs_by_ended_at, not every run (issue 18: history in the
// millions).
func TestPurgeUsesEndedIndex(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "vigil.db"), Options{})
	defer s.Close()
	rows, err := s.read.QueryContext(t.Context(), `EXPLAIN QUERY PLAN `+purgeCandidates+` LIMIT ?2`, sqlcol.TimeArg(time.Now()), 100)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("plan:\n%s", strings.Join(plan, "\n"))
	if !strings.Contains(plan[0], "runs_by_ended_at (ended_at<?)") {
		t.Errorf("the purge does not read runs by runs_by_ended_at; plan:\n%s", strings.Join(plan, "\n"))
	}
}
