// Package pq is a stub of github.com/lib/pq: a PostgreSQL driver.
package pq

// QuoteIdentifier quotes an identifier for PostgreSQL.
func QuoteIdentifier(name string) string { return `"` + name + `"` }
