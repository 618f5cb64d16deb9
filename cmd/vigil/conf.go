package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/vigilhq/vigil/scheduler/dag"
)

// maxConfFile bounds a --conf-file: a conf is a few names and values, and
// each ends up in every task's environment (a pod's spec included).
const maxConfFile = 64 << 10

// readConf returns the conf `vigil dags trigger` was given: --conf
// KEY=VALUE pairs or a --conf-file, not both.
func readConf(pairs []string, file string) (dag.Values, error) {
	if len(pairs) > 0 && file != "" {
		return nil, errors.New("--conf and --conf-file given together; give the values one way: put them all in the file, or all as --conf KEY=VALUE")
	}
	if file == "" {
		return dag.ParseConfPairs(pairs)
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("--conf-file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfFile+1))
	if err != nil {
		return nil, fmt.Errorf("--conf-file %s: %w", file, err)
	}
	if len(data) > maxConfFile {
		return nil, fmt.Errorf("--conf-file %s is over %d KiB; a conf holds a few values that each task gets in its environment: pass large data by reference (a path, a URL)", file, maxConfFile>>10)
	}
	return dag.ParseConf(file, data)
}
