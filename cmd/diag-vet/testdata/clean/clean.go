package clean

import (
	"net/http"

	"example.com/clean/client"
)

func Fetch(u string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	return client.New().Do(req)
}
