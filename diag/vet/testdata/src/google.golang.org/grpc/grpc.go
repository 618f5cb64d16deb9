// Package grpc is a stub of google.golang.org/grpc.
package grpc

import (
	"context"
	"time"
)

type DialOption interface{ dial() }

type option struct{}

func (option) dial() {}

func WithBlock() DialOption                 { return option{} }
func WithTimeout(time.Duration) DialOption  { return option{} }
func WithInsecure() DialOption              { return option{} }
func WithReturnConnectionError() DialOption { return option{} }

type ClientConn struct{}

func Dial(target string, opts ...DialOption) (*ClientConn, error) { return &ClientConn{}, nil }

func DialContext(ctx context.Context, target string, opts ...DialOption) (*ClientConn, error) {
	return &ClientConn{}, nil
}

func NewClient(target string, opts ...DialOption) (*ClientConn, error) { return &ClientConn{}, nil }

type CallOption interface{ call() }
