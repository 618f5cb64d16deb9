// Package pgx stands in for pgx.
package pgx

import "context"

type Conn struct{}

func Connect(ctx context.Context, connString string) (*Conn, error) { return nil, nil }

type CommandTag struct{}

func (c *Conn) Exec(ctx context.Context, sql string, args ...any) (CommandTag, error) {
	return CommandTag{}, nil
}

func (c *Conn) Close(ctx context.Context) error { return nil }
