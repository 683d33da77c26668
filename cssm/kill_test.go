package cssm

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ucmsh/ucmsh/internal/clock"

	"github.com/ucmsh/ucmsh/cssmapi"
)

// serveChild is the test binary as `cssm serve` (CSSM_TEST_SERVE=dir).
func serveChild(dir, spec string) int {
	s, err := OpenDatabase(dir, spec)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := Serve(context.Background(), s, clock.System{}, ServeConfig{Listen: "127.0.0.1:0", Out: os.Stdout, Limits: Limits{PerClient: 10000, MaxConnections: 10000}}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// killRounds is how many times TestSIGKILLAtAnyMoment kills the server: 8
// here, CSSM_KILL_ROUNDS from .ci/cssm-kill.sh.
func killRounds() int {
	if n, err := strconv.Atoi(os.Getenv("CSSM_KILL_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return 8
}

// Products register (each with its idempotency key, retried until answered,
// as the node does) while the server is SIGKILLed at random moments and
// restarted. Afterwards the store holds exactly the instances whose
// registration was answered, each answer the same however often it was
// repeated, the token's use count is the number of instances, and the
// aggregates equal the sums over the instances.
func TestSIGKILLAtAnyMoment(t *testing.T) {
	l := newLab(t)
	l.addLicense("Enhanced", 1000)
	tok := l.token(TokenOptions{ExpiresDays: 365})
	dir := l.store.Dir()
	spec := specFor(t, dir)

	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "CSSM_TEST_SERVE="+dir, "CSSM_TEST_SERVE_DB="+spec)
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the test
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := regexp.MustCompile(`serving the product API on (\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				go func() {
					for sc.Scan() {
					}
				}()
				return cmd, m[1]
			}
		}
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatal("the server did not start")
		return nil, ""
	}

	type product struct {
		key    string
		answer []byte // first answer seen
	}
	const perRound = 40
	rounds := killRounds()
	products := make([]*product, perRound*rounds)
	for i := range products {
		products[i] = &product{key: cssmapi.NewIdempotencyKey()}
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var lastErr sync.Map // product -> why its last try failed
	send := func(base string, n int) ([]byte, bool) {
		body, _ := json.Marshal(regReq(tok, n))
		req, err := http.NewRequest(http.MethodPost, base+cssmapi.PathRegister, bytes.NewReader(body))
		if err != nil {
			lastErr.Store(n, err.Error())
			return nil, false
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set(cssmapi.HeaderIdempotencyKey, products[n].key)
		resp, err := client.Do(req)
		if err != nil {
			lastErr.Store(n, err.Error())
			return nil, false
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		if _, err := b.ReadFrom(resp.Body); err != nil || resp.StatusCode != 200 {
			lastErr.Store(n, fmt.Sprintf("%d %s %v", resp.StatusCode, b.Bytes(), err))
			return nil, false
		}
		return b.Bytes(), true
	}

	retried := 0 // calls left unanswered by a kill, sent again in the next round
	mixed := 0   // kills that came between answers
	for round := 0; round <= rounds; round++ {
		cmd, base := start()
		// Everyone not yet answered tries (again); this round's products start.
		var wg sync.WaitGroup
		limit := min(len(products), (round+1)*perRound)
		for n := range limit {
			p := products[n]
			wg.Go(func() {
				ans, ok := send(base, n)
				if !ok {
					return
				}
				if p.answer == nil {
					p.answer = ans
				} else if !bytes.Equal(p.answer, ans) {
					t.Errorf("product %d: a repeat got another answer:\n%s\n%s", n, p.answer, ans)
				}
			})
		}
		unanswered := 0
		if round < rounds {
			// Anywhere from before the first answer to after the last.
			time.Sleep(time.Duration(rand.IntN(80)) * time.Millisecond)
			cmd.Process.Kill()
		}
		wg.Wait()
		for _, p := range products[:limit] {
			if p.answer == nil {
				unanswered++
			}
		}
		if unanswered > 0 && unanswered < limit {
			mixed++ // some answered before the kill, some not
		}
		retried += unanswered
		if round == rounds {
			// The last round runs to the end: every product has its answer.
			cmd.Process.Signal(os.Interrupt)
		}
		cmd.Wait()
	}

	t.Logf("%d kills (%d between answers) left %d calls unanswered, each sent again after the restart", rounds, mixed, retried)
	answered := map[string]bool{}
	for n, p := range products {
		if p.answer == nil {
			why, _ := lastErr.Load(n)
			t.Fatalf("product %d never got an answer; the last try: %v", n, why)
		}
		var reg cssmapi.RegisterResponse
		json.Unmarshal(p.answer, &reg)
		answered[reg.InstanceID] = true
	}
	s, err := openStore(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.View(func(st *State) error {
		rows := st.listInstances("", InstanceCursor{}, 10*len(products))
		if len(rows) != len(products) {
			t.Errorf("%d instances for %d products", len(rows), len(products))
		}
		for _, in := range rows {
			if !answered[in.ID] {
				t.Errorf("instance %s is in the store but no answer named it", in.ID)
			}
		}
		if tot := st.totals("TAC"); tot.Instances != len(rows) {
			t.Errorf("aggregate says %d instances, the store holds %d", tot.Instances, len(rows))
		}
		if u := st.token(tok).Uses; u != len(rows) {
			t.Errorf("token used %d times for %d instances", u, len(rows))
		}
		return nil
	})
}
