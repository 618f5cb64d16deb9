package status

import (
	"io"
	"testing"
	"time"

	"github.com/vigilhq/vigil/cmd/vigil/cli/cmdutil"
	"github.com/vigilhq/vigil/diag/cli/iostreams"
)

func TestNewCmdStatus(t *testing.T) {
	ios, _, _, _ := iostreams.Test()
	f := &cmdutil.Factory{IOStreams: ios, Server: &cmdutil.ServerFlags{}}
	var got *Options
	c := NewCmdStatus(f, func(o *Options) error { got = o; return nil })
	c.SetArgs([]string{"--server", "https://vigil:8975", "--token-file", "/t", "--certificate-authority", "/ca.pem", "--request-timeout", "3s", "-o", "yaml"})
	c.SetOut(io.Discard)
	if err := c.Execute(); err != nil {
		t.Fatal(err)
	}
	s := f.Server
	if got.Printer.Output != "yaml" || s.Server != "https://vigil:8975" || s.TokenFile != "/t" || s.CAFile != "/ca.pem" || s.RequestTimeout != 3*time.Second {
		t.Errorf("options %+v, server flags %+v", got, s)
	}
}
