// Package ldap is a stub of github.com/go-ldap/ldap/v3.
package ldap

import "time"

type Conn struct{}

func (l *Conn) SetTimeout(d time.Duration)           {}
func (l *Conn) Bind(username, password string) error { return nil }

func DialURL(addr string) (*Conn, error) { return &Conn{}, nil }
