package executortest

import (
	"testing"

	"github.com/vigilhq/vigil/scheduler"
	"github.com/vigilhq/vigil/scheduler/dag"
)

// testParamEnv checks that the try sees its run's params
// (scheduler.Try.ParamEnv): each as VIGIL_PARAM_<NAME>, all as JSON in
// VIGIL_CONF; the command exits 0 only if they hold them.
func testParamEnv(t *testing.T, h Harness) {
	ex := h.New(t)
	events := runEvents(t, ex)
	tr := try(t, 1, "sh", "-c", `test "$VIGIL_PARAM_REGION" = 'eu west' &&
test "$VIGIL_PARAM_DRY_RUN" = true &&
test "$VIGIL_PARAM_LIMIT" = 10 &&
test "$VIGIL_CONF" = '{"dry-run":true,"limit":10,"region":"eu west"}' || exit 7`)
	tr.Params = dag.Values{
		"region":  dag.String("eu west"),
		"dry-run": {Kind: dag.KindBool, Text: "true"},
		"limit":   {Kind: dag.KindNumber, Text: "10"},
	}
	start(t, ex, tr)
	if ev := events.next(tr.Key, scheduler.EventExited); ev.ExitCode != 0 {
		t.Errorf("exited event = %+v, want exit code 0: VIGIL_PARAM_REGION, VIGIL_PARAM_DRY_RUN, VIGIL_PARAM_LIMIT or VIGIL_CONF is missing or wrong", ev)
	}
}
