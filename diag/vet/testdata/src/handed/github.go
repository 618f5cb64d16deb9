package handed

import (
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"
)

func githubClients() {
	github.NewClient(nil) // want `github.NewClient\(nil\) sends on http.DefaultClient, which has no Timeout`
	github.NewClient(&http.Client{Timeout: 30 * time.Second})
}
