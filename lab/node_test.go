package lab

import (
	"context"
	"strings"
	"testing"

	"github.com/ucmsh/ucmsh/publisher"
)

// A node whose timers panic (here: a service with no store) reports an
// error; the agent logs it and the lab's other nodes go on.
func TestPanickingTimersAreAnError(t *testing.T) {
	_, err := runDue(context.Background(), &publisher.Service{})
	if err == nil || !strings.Contains(err.Error(), "panic in the licensing timers") {
		t.Fatalf("runDue = %v", err)
	}
}
