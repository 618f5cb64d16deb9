package debugtest_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/vigilhq/vigil/diag/debugserver/debugtest"
)

// TestGzipZeros: the bomb is a valid gzip stream of exactly n zeros,
// checksum and size included.
func TestGzipZeros(t *testing.T) {
	const n = 8 << 20
	var buf bytes.Buffer
	if err := debugtest.GzipZeros(&buf, n); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > n/500 {
		t.Errorf("%d zeros took %d bytes gzipped; want a bomb", n, buf.Len())
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var got int64
	chunk := make([]byte, 64<<10)
	for {
		k, err := zr.Read(chunk)
		for _, b := range chunk[:k] {
			if b != 0 {
				t.Fatalf("byte %d is %d, want 0", got, b)
			}
		}
		got += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("after %d bytes: %v", got, err)
		}
	}
	if got != n {
		t.Errorf("decompressed %d bytes, want %d", got, n)
	}
}
