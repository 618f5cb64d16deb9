// Package pq is a stub of github.com/lib/pq: a PostgreSQL driver.
package pq
