package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/scheduler"
)

// pageFlags are a paged list's --limit and --cursor (issue 18): a list
// reads a page at a time through an index, so it answers as fast with ten
// million task instances in the database as with ten.
type pageFlags struct {
	limit  int
	cursor string
}

func (p *pageFlags) add(c *cobra.Command, what string) {
	c.Flags().IntVar(&p.limit, "limit", 100, "most "+what+" to list (0 for all)")
	c.Flags().StringVar(&p.cursor, "cursor", "", "list the page after the one that printed this cursor")
}

// fetch is the limit to ask the store for: one more than the page, which
// tells whether there is a next one.
func (p pageFlags) fetch() int {
	if p.limit <= 0 {
		return 0
	}
	return p.limit + 1
}

// page is a paged list as -o json prints it: the items, and the cursor of
// the next page (empty after the last).
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// pageOf cuts what the store returned for p (p.fetch items at most) to a
// page; err is the store's.
func pageOf[T any](items []T, err error, p pageFlags, cursor func(T) string) (page[T], error) {
	if errors.Is(err, scheduler.ErrBadCursor) {
		return page[T]{}, &usageError{fmt.Errorf("--cursor: %w", err)}
	}
	if err != nil {
		return page[T]{}, err
	}
	pg := page[T]{Items: items}
	if pg.Items == nil {
		pg.Items = []T{}
	}
	if p.limit > 0 && len(pg.Items) > p.limit {
		pg.Items = pg.Items[:p.limit]
		pg.NextCursor = cursor(pg.Items[p.limit-1])
	}
	return pg, nil
}

// renderPage prints a page: as JSON with its next cursor, or as a table
// with the next cursor on stderr, so that the table stays the data.
func renderPage[T any](a *app, pg page[T], table func(w io.Writer)) error {
	if err := a.render(pg, table); err != nil {
		return err
	}
	a.moreHint(pg.NextCursor)
	return nil
}

// moreHint tells a person reading a table how to get the next page.
func (a *app) moreHint(next string) {
	if next != "" && a.output != "json" {
		fmt.Fprintf(a.errOut, "more: add --cursor %s\n", next)
	}
}
