package printer_test

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigilhq/vigil/api"
	vigilcmdutil "github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/cmd/vigil/cli/dags"
	"github.com/vigilhq/vigil/diag/cli/attach"
	"github.com/vigilhq/vigil/diag/cli/bundle"
	"github.com/vigilhq/vigil/diag/cli/hangs"
	"github.com/vigilhq/vigil/diag/cli/loglevel"
	"github.com/vigilhq/vigil/diag/cli/profile"
	"github.com/vigilhq/vigil/diag/cli/trace"
	"github.com/vigilhq/vigil/diag/cli/version"
	"github.com/vigilhq/vigil/diag/cli/vet"
	"github.com/vigilhq/vigil/diag/debugapi"
	"github.com/vigilhq/vigil/internal/buildinfo"
)

// printed are the values read commands hand the printer (the roots);
// TestPrintedTypes walks every type reachable from them, wherever it is
// declared (a diag type aliased from debugapi, a Page of api objects).
var printed = map[string]any{
	"vigil dags list":             api.DAGList{},
	"vigil dags backfill":         api.BackfillPlan{},
	"vigil dags backfill (watch)": dags.BackfillEvent{},
	"vigil runs list":             api.Page[api.Run]{},
	"vigil tasks list":            api.Page[api.TaskInstance]{},
	"vigil tasks history":         api.TaskHistory{},
	"vigil pools list":            api.Page[api.Pool]{},
	"vigil pools history":         api.Page[api.PoolChange]{},
	"vigil ops list":              api.Page[api.Op]{},
	"vigil status":                api.Status{},
	"vigil whoami":                api.WhoAmI{},
	"vigil dags changes":          api.DAGChange{},
	"vigil config":                vigilcmdutil.Contexts{},
	"vigil version":               buildinfo.Info{},
	"diag attach":                 attach.Screen{},
	"diag stacks":                 debugapi.Snapshot{},
	"diag hangs":                  hangs.Report{},
	"diag health":                 debugapi.HealthReport{},
	"diag tasks":                  debugapi.TaskAudit{},
	"diag version":                version.Result{},
	"diag bundle":                 bundle.Result{},
	"diag bundle ls":              []debugapi.BundleInfo{},
	"diag loglevel":               loglevel.Result{},
	"diag trace":                  trace.Status{},
	"diag trace (mode)":           trace.Switch{},
	"diag trace tail":             []debugapi.Exchange{},
	"diag profile":                profile.Result{},
	"diag vet":                    []vet.Finding{},
	"debug API info":              debugapi.Info{},
	"debug API wire mode switch":  debugapi.WireModeResponse{},
}

var timeType = reflect.TypeFor[time.Time]()

// TestPrintedTypes walks, by reflection, every struct reachable from what
// the read commands print and checks issue 21's JSON grammar on each
// exported field: an explicit snake_case json name, and a time.Time left
// out when zero (omitzero; a *time.Time with omitempty).
func TestPrintedTypes(t *testing.T) {
	seen := map[reflect.Type]bool{}
	for cmd, v := range printed {
		walk(t, cmd, reflect.TypeOf(v), seen)
	}
	if len(seen) < 40 {
		t.Errorf("walked %d types; the walk is broken", len(seen))
	}
}

func walk(t *testing.T, root string, typ reflect.Type, seen map[reflect.Type]bool) {
	for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Array || typ.Kind() == reflect.Map {
		typ = typ.Elem()
	}
	if typ.Kind() != reflect.Struct || typ == timeType || seen[typ] {
		return
	}
	seen[typ] = true
	for i := range typ.NumField() {
		f := typ.Field(i)
		if !f.IsExported() {
			continue
		}
		where := root + ": " + typ.String() + "." + f.Name
		tag, hasTag := f.Tag.Lookup("json")
		name, opts, _ := strings.Cut(tag, ",")
		switch {
		case f.Anonymous && !hasTag:
			walk(t, root, f.Type, seen) // flattened into its parent
			continue
		case !hasTag:
			t.Errorf("%s: no json tag: scripts would see the Go name %q", where, f.Name)
		case name == "-":
			continue
		case !snakeCase.MatchString(name):
			t.Errorf("%s: json name %q is not snake_case", where, name)
		}
		has := func(o string) bool { return strings.Contains(","+opts+",", ","+o+",") }
		switch {
		case f.Type == timeType && !has("omitzero"):
			t.Errorf("%s: a time.Time without omitzero prints 0001-01-01 when unset", where)
		case f.Type.Kind() == reflect.Pointer && f.Type.Elem() == timeType && !has("omitempty") && !has("omitzero"):
			t.Errorf("%s: a *time.Time without omitempty prints null when unset", where)
		}
		walk(t, root, f.Type, seen)
	}
}
