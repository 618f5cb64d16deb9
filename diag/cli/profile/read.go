package profile

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"

	pprofile "github.com/google/pprof/profile"

	"github.com/vigilhq/vigil/diag/client"
)

// readProfile parses the pprof profile in file with its size bounded,
// gzipped and decompressed: google/pprof's own Parse decompresses all of
// whatever it is given into memory, so a 285 KB gzip of zeros from a
// broken or hostile scheduler made diag use 683 MB (issue 16). The
// decompressed size is measured first without keeping anything, so a
// bomb costs a stream's worth of memory, not its size.
func readProfile(file string) (*pprofile.Profile, error) {
	return readProfileLimit(file, client.MaxStream, client.MaxInflated)
}

func readProfileLimit(file string, maxFile, maxInflated int64) (*pprofile.Profile, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFile+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if int64(len(data)) > maxFile {
		return nil, &client.TooLargeError{What: file, Limit: maxFile}
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		n, err := inflatedSize(data, maxInflated)
		if err != nil {
			return nil, fmt.Errorf("%s: not a pprof profile: %w", file, err)
		}
		if n > maxInflated {
			return nil, &client.TooLargeError{What: file, Limit: maxInflated, Inflated: true}
		}
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: not a pprof profile: %w", file, err)
		}
		buf := bytes.NewBuffer(make([]byte, 0, n))
		if _, err := io.Copy(buf, io.LimitReader(zr, maxInflated)); err != nil {
			return nil, fmt.Errorf("%s: not a pprof profile: %w", file, err)
		}
		data = buf.Bytes()
	}
	p, err := pprofile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: not a pprof profile: %w", file, err)
	}
	return p, nil
}

// inflatedSize is how many bytes the gzip stream in data decompresses
// to, counting no further than max+1.
func inflatedSize(data []byte, max int64) (int64, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return 0, err
	}
	return io.Copy(io.Discard, io.LimitReader(zr, max+1))
}
