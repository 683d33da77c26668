package sentence

// Every test binary accepts -update (go test ./... -update), defined once.
import _ "github.com/ucmsh/ucmsh/golden"
