package hang

import (
	"net/http"

	"example.com/hang/client"
)

func Fetch(u string) (*http.Response, error) {
	return client.New().Get(u)
}
