package wiretrace

import (
	"net/http"
	"time"
)

// Exchange is one HTTP request and its response as the ring keeps it.
// Everything in it is redacted (see the package doc).
type Exchange struct {
	// Seq numbers kept exchanges 1, 2, 3... in the order they finished;
	// 0 for an exchange that was not kept (Off mode).
	Seq uint64 `json:"seq"`
	// Client is the name given with WithName.
	Client string `json:"client,omitempty"`
	// Start is when the request was handed to the transport.
	Start  time.Time `json:"start"`
	Method string    `json:"method"`
	// URL is the redacted request URL.
	URL string `json:"url"`
	// Host is host:port as dialed.
	Host string `json:"host"`

	// Verb, Group, Version, Resource, Subresource, Namespace and Name
	// describe a Kubernetes API call and are empty for any other request.
	Verb        string `json:"verb,omitempty"`
	Group       string `json:"group,omitempty"`
	Version     string `json:"version,omitempty"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Name        string `json:"name,omitempty"`

	// Status is the response status code; 0 when there was no response.
	Status int `json:"status"`
	// Err is the transport error or the error that ended reading the
	// body, redacted.
	Err string `json:"error,omitempty"`
	// Streaming marks a response recorded when its headers arrived (a
	// watch, a followed log, an upgrade): Duration is the time to the
	// headers and RespBytes does not count the stream.
	Streaming bool `json:"streaming,omitempty"`
	// Duration runs from Start to the end of the response body (or the
	// error, or the headers of a streaming response).
	Duration time.Duration `json:"duration_ns"`
	// ReqBytes is the request body's declared length, or when it has
	// none the bytes the transport read of it. RespBytes counts the
	// response body bytes the caller read.
	ReqBytes  int64  `json:"req_bytes"`
	RespBytes int64  `json:"resp_bytes"`
	Phases    Phases `json:"phases"`

	// ReqHeaders and RespHeaders are kept in Headers and Bodies mode.
	ReqHeaders  http.Header `json:"req_headers,omitempty"`
	RespHeaders http.Header `json:"resp_headers,omitempty"`
	// ReqBody and RespBody are kept in Bodies mode: the first BodyLimit
	// bytes, then "…[truncated N bytes]".
	ReqBody  string `json:"req_body,omitempty"`
	RespBody string `json:"resp_body,omitempty"`
}

// Phases are the connection timings of an exchange from
// net/http/httptrace, zero in Off mode and for phases that did not happen
// (a reused connection has no DNS, Connect or TLS).
type Phases struct {
	DNS     time.Duration `json:"dns_ns"`
	Connect time.Duration `json:"connect_ns"`
	TLS     time.Duration `json:"tls_ns"`
	// FirstByte is from Start to the first byte of the response.
	FirstByte  time.Duration `json:"first_byte_ns"`
	ConnReused bool          `json:"conn_reused"`
}
