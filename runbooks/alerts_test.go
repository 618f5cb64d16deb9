package runbooks

import (
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/vigilhq/vigil/deploy"
)

// RunbookBase is where the alert rules' runbook_url point: the pages of
// this folder in the repository (deploy/alerts/vigil-rules.yaml says to
// replace it with where a copy lives).
const RunbookBase = "https://github.com/vigilhq/vigil/blob/main/runbooks/"

// TestAlertsAndRunbooks: every alert rule's runbook_url is a page here
// under RunbookBase, and that page names the alert; every page is linked
// by at least one alert, and every alert a page names exists and links it.
func TestAlertsAndRunbooks(t *testing.T) {
	alerts, err := deploy.Alerts(deploy.RulesFile())
	if err != nil {
		t.Fatal(err)
	}
	linkedBy := map[string][]string{} // page -> alerts whose runbook_url is it
	pageOf := map[string]string{}     // alert -> page
	for _, a := range alerts {
		page, ok := strings.CutPrefix(a.RunbookURL, RunbookBase)
		if !ok || path.Base(page) != page || !strings.HasSuffix(page, ".md") {
			t.Errorf("alert %s: runbook_url %q is not %sPAGE.md", a.Name, a.RunbookURL, RunbookBase)
			continue
		}
		if _, err := Page(page); err != nil {
			t.Errorf("alert %s: runbook_url names %s, which does not exist", a.Name, page)
			continue
		}
		linkedBy[page] = append(linkedBy[page], a.Name)
		pageOf[a.Name] = page
	}
	if len(pageOf) == 0 {
		t.Fatal("no alert rules read from vigil-rules.yaml")
	}
	for _, name := range Names() {
		named, err := Alerts(name)
		if err != nil {
			t.Error(err)
			continue
		}
		if len(linkedBy[name]) == 0 {
			t.Errorf("%s: no alert links it (runbook_url)", name)
		}
		for _, a := range linkedBy[name] {
			if !slices.Contains(named, a) {
				t.Errorf("%s: alert %s links it but its Alert line does not name it", name, a)
			}
		}
		for _, a := range named {
			if pageOf[a] != name {
				t.Errorf("%s names alert %s, whose runbook_url is %q", name, a, pageOf[a])
			}
		}
	}
}
