package client

import (
	"context"
	"net/url"
	"time"

	"github.com/vigilhq/vigil/diag/debugapi"
)

// Tasks returns the reconciliation report: queued instances with no
// workload for longer than lostAfter are lost; nothing younger than grace
// is reported.
func (c *Client) Tasks(ctx context.Context, lostAfter, grace time.Duration) (debugapi.TaskAudit, error) {
	q := url.Values{"lost_after": {lostAfter.String()}, "grace": {grace.String()}}
	var a debugapi.TaskAudit
	_, err := c.getJSON(ctx, "tasks", q, &a)
	return a, err
}
