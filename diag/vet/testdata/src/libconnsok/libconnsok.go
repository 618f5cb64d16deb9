// Package libconnsok sets go-ldap's request timeout.
package libconnsok

import (
	"time"

	"github.com/go-ldap/ldap/v3"
)

func login(url, user, pass string) error {
	l, err := ldap.DialURL(url)
	if err != nil {
		return err
	}
	l.SetTimeout(10 * time.Second)
	return l.Bind(user, pass)
}
