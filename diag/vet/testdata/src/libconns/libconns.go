// Package libconns: connections of libraries that read replies with no
// deadline unless asked for one.
package libconns

import (
	"time"

	"github.com/go-ldap/ldap/v3"
	"github.com/gomodule/redigo/redis"
)

func cache(addr string) (redis.Conn, error) {
	return redis.Dial("tcp", addr, redis.DialConnectTimeout(5*time.Second)) // want `redis.Dial without DialReadTimeout: redigo reads every reply with no deadline`
}

func boundedCache(addr string) (redis.Conn, error) {
	return redis.Dial("tcp", addr, redis.DialReadTimeout(5*time.Second))
}

func fromURL(u string) (redis.Conn, error) {
	return redis.DialURL(u) // want `redis.DialURL without DialReadTimeout`
}

func withOptions(addr string, opts []redis.DialOption) (redis.Conn, error) {
	return redis.Dial("tcp", addr, opts...) // the options are the caller's
}

func login(url, user, pass string) error {
	l, err := ldap.DialURL(url) // want `ldap.DialURL and no SetTimeout in the package: go-ldap waits for each response with no deadline`
	if err != nil {
		return err
	}
	return l.Bind(user, pass)
}
