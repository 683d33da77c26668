package commands

import "log/slog"

// AuditLog is a Runner.Audit that logs each state-changing command of a
// session (ucmsh serve's audit trail): who, from where, the command's
// words (never its arguments) and whether it succeeded.
func AuditLog(log *slog.Logger, user, addr string) func(path string, ok bool) {
	return func(path string, ok bool) {
		result := "ok"
		if !ok {
			result = "failed"
		}
		log.Info("command", "user", user, "addr", addr, "command", path, "result", result)
	}
}
