package profiles

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/google/pprof/profile"
)

// maxUploadBody bounds the upload body dropLabels reads back: a profile
// of a busy scheduler is tens of KiB gzipped, so 64 MiB is a bug.
const maxUploadBody = 64 << 20

// dropLabels rewrites an ingest request from pyroscope-go so that the
// pprof profile it carries has none of the sample labels in drop.
// Pyroscope turns every distinct set of sample labels into a series, so
// a label with one value per run (the scheduler's "run") would grow the
// server's index without bound. The request body is multipart/form-data
// with the gzipped pprof in the "profile" part (pyroscope-go v1.4
// upstream/remote); every other part is copied as is. A request the
// filter cannot read is an error: sending it unfiltered would push the
// labels it exists to keep out.
func dropLabels(req *http.Request, drop []string) (*http.Request, error) {
	if len(drop) == 0 || req.Body == nil {
		return req, nil
	}
	mt, params, err := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, fmt.Errorf("drop profile labels %v: upload has Content-Type %q, want multipart/form-data", drop, req.Header.Get("Content-Type"))
	}
	body, err := io.ReadAll(io.LimitReader(req.Body, maxUploadBody+1))
	_ = req.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("drop profile labels %v: read upload: %w", drop, err)
	}
	if len(body) > maxUploadBody {
		return nil, fmt.Errorf("drop profile labels %v: upload is over %d bytes", drop, maxUploadBody)
	}
	var out bytes.Buffer
	w := multipart.NewWriter(&out)
	if err := w.SetBoundary(params["boundary"]); err != nil {
		return nil, fmt.Errorf("drop profile labels %v: %w", drop, err)
	}
	r := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("drop profile labels %v: read upload part: %w", drop, err)
		}
		data, err := io.ReadAll(part)
		if err != nil {
			return nil, fmt.Errorf("drop profile labels %v: read part %q: %w", drop, part.FormName(), err)
		}
		if part.FormName() == "profile" {
			if data, err = dropPprofLabels(data, drop); err != nil {
				return nil, fmt.Errorf("drop profile labels %v: %w", drop, err)
			}
		}
		pw, err := w.CreatePart(part.Header)
		if err != nil {
			return nil, err
		}
		if _, err := pw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out2 := req.Clone(req.Context())
	n := out.Len()
	out2.Body = io.NopCloser(&out)
	out2.ContentLength = int64(n)
	out2.Header.Set("Content-Length", strconv.Itoa(n))
	out2.GetBody = nil
	return out2, nil
}

// dropPprofLabels removes the drop labels (string and numeric) from every
// sample of a (gzipped or plain) pprof profile, merges the samples that
// become identical, and returns it gzipped.
func dropPprofLabels(data []byte, drop []string) ([]byte, error) {
	p, err := profile.ParseData(data)
	if err != nil {
		return nil, fmt.Errorf("parse pprof profile: %w", err)
	}
	changed := false
	for _, s := range p.Sample {
		for _, k := range drop {
			if _, ok := s.Label[k]; ok {
				delete(s.Label, k)
				changed = true
			}
			if _, ok := s.NumLabel[k]; ok {
				delete(s.NumLabel, k)
				delete(s.NumUnit, k)
				changed = true
			}
		}
	}
	if !changed {
		return data, nil
	}
	p = p.Compact()
	var buf bytes.Buffer
	if err := p.Write(&buf); err != nil {
		return nil, fmt.Errorf("write pprof profile: %w", err)
	}
	return buf.Bytes(), nil
}
