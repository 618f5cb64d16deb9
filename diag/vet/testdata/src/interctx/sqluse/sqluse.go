package sqluse

import (
	"context"
	"database/sql"

	"interctx/store"
)

func use(ctx context.Context, db *sql.DB) {
	store.Count(context.Background(), db) // want `context.Background\(\) passed to store.Count reaches \(\*sql.DB\).QueryRowContext at store/store.go:\d+ \(through store.Count\) with no deadline`
	store.Count(ctx, db)
	store.Bounded(context.Background(), db)
}
