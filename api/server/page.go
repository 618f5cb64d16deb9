package server

import (
	"net/http"
	"strconv"

	"github.com/vigilhq/vigil/api"
)

// DefaultLimit is a list's page size when ?limit= is not given.
const DefaultLimit = 100

// pageQuery is a list's ?limit= and ?cursor=.
type pageQuery struct {
	limit  int
	cursor string
}

func readPage(r *http.Request) (pageQuery, error) {
	q := pageQuery{limit: DefaultLimit, cursor: r.URL.Query().Get("cursor")}
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return q, errBadRequest("?limit=%q: use a number of items, or 0 for all", v)
		}
		q.limit = n
	}
	return q, nil
}

// fetch is the limit to ask the store for: one more than the page, which
// tells whether there is a next one.
func (p pageQuery) fetch() int {
	if p.limit <= 0 {
		return 0
	}
	return p.limit + 1
}

// pageOf cuts what the store returned (p.fetch items at most) to a page
// and converts it.
func pageOf[T, W any](items []T, p pageQuery, cursor func(T) string, conv func(T) W) api.Page[W] {
	pg := api.Page[W]{Items: make([]W, 0, len(items))}
	if p.limit > 0 && len(items) > p.limit {
		items = items[:p.limit]
		pg.NextCursor = cursor(items[p.limit-1])
	}
	for _, it := range items {
		pg.Items = append(pg.Items, conv(it))
	}
	return pg
}
