package testonly

import (
	"testing"

	_ "modernc.org/sqlite"
)

func TestStore(t *testing.T) { store(nil) }
