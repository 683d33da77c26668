package cli

import (
	"runtime/debug"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func TestVersionLine(t *testing.T) {
	stamped := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "4e1588a5b0c1"}, {Key: "vcs.modified", Value: "true"},
	}}
	for _, tc := range []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want string
	}{
		{"git checkout", stamped, true, "ucmsh version (devel), commit 4e1588a5b0c1 (modified)\n"},
		{"-buildvcs=false", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.0"}}, true, "ucmsh version v1.2.0, commit unknown\n"},
		{"no build info", nil, false, "ucmsh version unknown, commit unknown\n"},
	} {
		if got := versionLine("ucmsh", tc.info, tc.ok); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestFlagUsagesShowBooleansPlain(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.Bool("strict", false, "behave as CUCM")
	fs.Bool("on", true, "on unless told")
	fs.StringP("command", "c", "", "run one `command`")
	fs.String("listen", "127.0.0.1:2222", "address")
	fs.Int("count", 0, "how many")
	fs.String("store", "", "old name")
	fs.MarkHidden("store")
	got := FlagUsages(fs)
	want := "" +
		"  -c, --command command   run one command\n" +
		"      --count int         how many\n" +
		"      --listen string     address (default \"127.0.0.1:2222\")\n" +
		"      --on                on unless told (default true)\n" +
		"      --strict            behave as CUCM\n" +
		"  -h, --help              show this help\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if strings.Contains(got, "[=") {
		t.Errorf("a flag shows pflag's optional-value syntax:\n%s", got)
	}
}

func TestLoopbackListen(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:2222": true, "127.1.2.3:22": true, "localhost:8443": true, "[::1]:0": true,
		"0.0.0.0:2222": false, ":2222": false, "192.0.2.1:22": false, "example.com:22": false,
	} {
		if got, err := LoopbackListen(addr); err != nil || got != want {
			t.Errorf("LoopbackListen(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
	if _, err := LoopbackListen("2222"); err == nil {
		t.Error(`"2222" accepted as HOST:PORT`)
	}
}
