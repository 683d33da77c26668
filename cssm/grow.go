package cssm

import (
	"fmt"
	"time"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// Grow registers products from..to-1 with token and reports their usage, all
// in one transaction, exactly as the API would one by one: for benchmarks
// that need a large store quickly (bench/cssm).
func Grow(s *Store, now time.Time, token string, from, to int, udi func(int) string, usage func(int) []cssmapi.Usage) error {
	return s.Update(func(st *State) error {
		for i := from; i < to; i++ {
			reg, err := st.Register(now, cssmapi.RegisterRequest{Token: token, UDI: udi(i), Hostname: fmt.Sprintf("cucm-%07d", i), Version: "15.0.1"})
			if err != nil {
				return err
			}
			if _, err := st.Authorize(now, reg.Credential, cssmapi.AuthorizeRequest{InstanceID: reg.InstanceID, Usage: usage(i)}); err != nil {
				return err
			}
		}
		return nil
	})
}
