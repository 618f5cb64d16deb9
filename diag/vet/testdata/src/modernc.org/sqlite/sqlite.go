// Package sqlite is a stub of modernc.org/sqlite: a database/sql driver
// for SQLite compiled in.
package sqlite
