// Package redis is a stub of github.com/gomodule/redigo/redis.
package redis

import "time"

type Conn interface {
	Do(cmd string, args ...any) (any, error)
	Close() error
}

type DialOption struct{ f func() }

func DialReadTimeout(d time.Duration) DialOption    { return DialOption{} }
func DialConnectTimeout(d time.Duration) DialOption { return DialOption{} }

func Dial(network, address string, options ...DialOption) (Conn, error) { return nil, nil }
func DialURL(rawurl string, options ...DialOption) (Conn, error)        { return nil, nil }
