package clientcall

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// pgx's connection has no statement timeout of its own.
func migrate(conn *pgx.Conn) {
	conn.Exec(context.Background(), "select 1") // want `client call pgx.Conn.Exec with context.Background\(\)`
	conn.Close(context.TODO())                  // want `client call pgx.Conn.Close with context.TODO\(\)`
}
