package ssapanic // want `diag vet could not check package ssapanic: building its SSA form failed \(no types.Object for ast.Ident\); its calls were not checked`

import "net/http"

// Get would be a finding, but the package is not checked: the test makes
// building its SSA form fail, and the failure is the only diagnostic.
func Get(url string) (*http.Response, error) { return http.Get(url) }
