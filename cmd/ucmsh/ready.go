package main

import (
	"encoding/json"

	"github.com/ucmsh/ucmsh/internal/atomicfile"
)

// ServeReady is what `ucmsh serve --ready-file` writes once it listens:
// {"ssh": "127.0.0.1:40123"}. Written atomically, so a test that sees the
// file sees it whole.
type ServeReady struct {
	SSH string `json:"ssh"`
}

func writeServeReady(path, addr string) error {
	data, err := json.Marshal(ServeReady{SSH: addr})
	if err != nil {
		return err
	}
	return atomicfile.Write(path, append(data, '\n'), 0o600)
}
