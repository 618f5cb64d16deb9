// Package bench measures the scheduler's own overhead: how long a run of
// many instant tasks takes from its creation to its end, with the
// in-memory executor (nothing but scheduling and the SQLite store) and with
// the local executor (real processes). `make bench` runs it and writes
// results.txt and a CPU profile beside this file.
package bench
