// Package dag reads DAG files: YAML documents that declare a workflow's
// tasks, their dependencies and its schedule.
//
// Parse turns one file into a typed, validated DAG; every error names the
// file, line and column and says what to do. Encode writes the one canonical
// encoding of a DAG, so Parse(Encode(d)) equals d for every valid DAG (a
// fuzz test holds this). A task's effective configuration (its own fields,
// the DAG defaults and the resource preset merged) is a TaskSpec; EncodeSpec
// and DecodeSpec give the versioned form the store keeps.
package dag
