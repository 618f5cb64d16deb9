package sqlplan

import "testing"

func TestBadSQLite(t *testing.T) {
	tests := []struct {
		name  string
		sql   string
		plan  []string
		paged bool
		bad   bool
	}{
		{"search by index", "", []string{"SEARCH runs USING INDEX runs_by_state (state=?)"}, false, false},
		{"full scan", "", []string{"SCAN runs"}, false, true},
		{"full scan, paged", "", []string{"SCAN task_instances"}, true, true},
		{"index walk, unpaged", "", []string{"SCAN runs USING INDEX runs_by_date"}, false, true},
		{"index walk, paged", "", []string{"SCAN runs USING INDEX runs_by_date"}, true, false},
		{"rowid walk of ops, paged", "", []string{"SCAN ops"}, true, false},
		{"sort, paged", "", []string{"SEARCH runs USING INDEX runs_by_dag (dag_id=?)", "USE TEMP B-TREE FOR ORDER BY"}, true, true},
		{"sort, unpaged", "", []string{"SEARCH runs USING INDEX runs_by_state (state=?)", "USE TEMP B-TREE FOR ORDER BY"}, false, false},
		{"sort of a tie, paged", "", []string{"SEARCH runs USING INDEX runs_by_dag (dag_id=?)", "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY"}, true, false},
		{"other table", "", []string{"SCAN dags"}, false, false},
		{"aliased full scan", "SELECT r.run_id FROM runs r WHERE r.state = ?", []string{"SCAN r"}, false, true},
		{"aliased with AS", "SELECT 1 FROM ops AS o JOIN runs ON 1", []string{"SEARCH runs USING INDEX x (dag_id=?)", "SCAN o"}, false, true},
		{"CTE scan", "WITH c AS (SELECT * FROM runs r WHERE r.state = ?) SELECT * FROM c", []string{"SEARCH r USING INDEX runs_by_state (state=?)", "SCAN c"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BadSQLite(Query{SQL: tt.sql, Paged: tt.paged}, tt.plan); (got != "") != tt.bad {
				t.Errorf("BadSQLite(%q, paged=%v) = %q, want bad=%v", tt.plan, tt.paged, got, tt.bad)
			}
		})
	}
}

func TestBadPostgres(t *testing.T) {
	tests := []struct {
		name  string
		plan  []string
		paged bool
		bad   bool
	}{
		{"index scan", []string{"Limit  (cost=0.28..8.78 rows=101 width=90)", "  ->  Index Scan using runs_by_date on runs"}, true, false},
		{"seq scan", []string{"Seq Scan on transitions  (cost=0.00..1.00 rows=1 width=4)"}, false, true},
		{"sort, paged", []string{"Limit", "  ->  Sort  (cost=27.52..27.73 rows=84 width=281)", "        ->  Bitmap Heap Scan on runs"}, true, true},
		{"sort, unpaged", []string{"Sort  (cost=8.16..8.17 rows=1 width=90)", "  ->  Index Scan using runs_running_by_owner on runs"}, false, false},
		{"other table", []string{"Seq Scan on pools"}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := BadPostgres(tt.plan, tt.paged); (got != "") != tt.bad {
				t.Errorf("BadPostgres(%q, paged=%v) = %q, want bad=%v", tt.plan, tt.paged, got, tt.bad)
			}
		})
	}
}
