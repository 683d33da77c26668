package shell

// Interactive reports whether a person at a terminal can answer questions
// (a host-key prompt, say); scripts and exec sessions cannot.
func (s *Session) Interactive() bool { return s.term != nil }
