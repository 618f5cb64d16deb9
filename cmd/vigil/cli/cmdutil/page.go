package cmdutil

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vigilhq/vigil/api/client"
	"github.com/vigilhq/vigil/internal/printer"
)

// PageFlags are a paged list's --limit and --cursor (issue 18): a list
// reads a page at a time through an index, so it answers as fast with ten
// million task instances in the database as with ten.
type PageFlags struct {
	Limit  int
	Cursor string
}

// Add registers --limit and --cursor on c.
func (p *PageFlags) Add(c *cobra.Command, what string) {
	c.Flags().IntVar(&p.Limit, "limit", 100, "most "+what+" to list (0 for all)")
	c.Flags().StringVar(&p.Cursor, "cursor", "", "list the page after the one that printed this cursor")
}

// List is the page the client asks for (--limit 0: all).
func (p PageFlags) List() client.ListOptions {
	lim := p.Limit
	if lim == 0 {
		lim = -1
	}
	return client.ListOptions{Limit: lim, Cursor: p.Cursor}
}

// PrintPage prints a page (v, the api.Page or a type holding one) with
// po, and for a table the next page's cursor on stderr, so that the
// table stays the data.
func PrintPage(f *Factory, po printer.Options, v any, next string, t *printer.Table) error {
	if err := po.Print(f.IOStreams.Out, v, t); err != nil {
		return err
	}
	MoreHint(f, po, next)
	return nil
}

// MoreHint tells a person reading a table how to get the next page.
func MoreHint(f *Factory, po printer.Options, next string) {
	if next != "" && po.Human() {
		fmt.Fprintf(f.IOStreams.ErrOut, "more: add --cursor %s\n", next)
	}
}
