// Package httpx builds the clients package interhttp uses: the facts
// diag vet exports on its functions and fields carry what it knows of
// them across the package boundary.
package httpx

import (
	"errors"
	"net/http"
	"time"
)

// New returns a client with Timeout: a safe source wherever it is used.
func New() *http.Client { return &http.Client{Timeout: 10 * time.Second} }

// NewChecked returns a client with Timeout, or an error.
func NewChecked(d time.Duration) (*http.Client, error) {
	if d <= 0 {
		return nil, errors.New("httpx: timeout must be positive")
	}
	return &http.Client{Timeout: d}, nil
}

// Bare returns a client without Timeout; nothing here uses it, so the
// finding goes to its users.
func Bare() *http.Client { return &http.Client{} }

// Later sets Timeout after building the client.
func Later() *http.Client {
	c := &http.Client{}
	c.Timeout = time.Minute
	return c
}

// Options builds a client in a method.
type Options struct{ Timeout time.Duration }

func (o Options) Client() *http.Client { return &http.Client{Timeout: o.Timeout} }

// API holds a client its constructor built without Timeout.
type API struct {
	Client *http.Client
	Base   string
}

func NewAPI(base string) *API { return &API{Client: Bare(), Base: base} }

// SafeAPI holds a client with Timeout, stored through an unkeyed literal.
type SafeAPI struct {
	Base   string
	Client *http.Client
}

func NewSafeAPI(base string) *SafeAPI { return &SafeAPI{base, New()} }

// Zero holds an http.Client by value that nobody gives a Timeout.
type Zero struct{ HC http.Client }
