package reservation_test

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The licensing server shares only the code formats with the node: it must
// not link an SFTP or SSH client (issue 15.2).
func TestCSSMLinksNoSFTP(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	goTool := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, pkg := range []string{"github.com/ucmsh/ucmsh/cmd/cssm", "github.com/ucmsh/ucmsh/reservation"} {
		out, err := exec.Command(goTool, "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.Contains(dep, "sftp") || strings.HasPrefix(dep, "golang.org/x/crypto/ssh") {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
