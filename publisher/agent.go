package publisher

import (
	"context"
	"log/slog"
	"time"
)

// RunAgent is the licensing agent of a long-running node (ucmsh serve):
// it runs what the timers say is due (renewals, retries of calls whose
// answers were lost) now and then every period, until ctx ends. A failure
// is logged and tried again at the next tick; the next licensing command
// would run the same timers anyway.
func (s *Service) RunAgent(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.RunDue(ctx); err != nil && ctx.Err() == nil {
			log.Error("licensing agent", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
