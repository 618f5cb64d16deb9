package handed

import (
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/session"
)

func sessions(cfg *aws.Config) {
	session.NewSession()                                             // want `AWS SDK session.NewSession with no HTTPClient in its config: the SDK then sends on http.DefaultClient, which has no Timeout`
	session.NewSession(&aws.Config{Region: aws.String("eu-west-1")}) // want `AWS SDK session.NewSession with no HTTPClient`
	session.NewSessionWithOptions(session.Options{                   // want `AWS SDK session.NewSessionWithOptions with no HTTPClient`
		Config: aws.Config{Region: aws.String("eu-west-1")},
	})
	session.NewSessionWithOptions(session.Options{Profile: "ci"}) // want `AWS SDK session.NewSessionWithOptions with no HTTPClient`
	timed := &http.Client{Timeout: time.Minute}
	session.NewSession(&aws.Config{HTTPClient: timed})
	session.NewSessionWithOptions(session.Options{Config: aws.Config{HTTPClient: timed}})
	session.NewSession(aws.NewConfig().WithHTTPClient(timed))
	session.NewSession(cfg) // the caller's config: not judged
}
