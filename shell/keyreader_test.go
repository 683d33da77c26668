package shell

import (
	"context"
	"io"
	"testing"
	"time"
)

// When the prompt comes up while the reader goroutine still reads for the
// command that just ended, whoever waits for the next key is told when
// that goroutine stops, and then reads itself: it never waits on a
// goroutine that is gone (a wake lost so hung sessions under load).
func TestKeyReaderHandsReadingBackToThePrompt(t *testing.T) {
	deadline := time.Now().Add(3 * time.Second)
	for i := 0; i < 3000 && time.Now().Before(deadline); i++ {
		pr, pw := io.Pipe()
		k := newKeyReader(pr, 4096, nil)
		k.setReading(false, false) // a command runs: the reader goroutine reads
		go pw.Write([]byte("a"))
		for !k.buffered() {
			time.Sleep(10 * time.Microsecond)
		}
		k.setReading(true, true) // the prompt is up
		if b, err := k.readByte(context.Background()); b != 'a' || err != nil {
			t.Fatalf("read %q, %v", b, err)
		}
		woke := make(chan struct{})
		go func() {
			k.wait()
			close(woke)
		}()
		go pw.Write([]byte("b"))
		select {
		case <-woke:
		case <-time.After(2 * time.Second):
			t.Fatalf("round %d: the next key never reached the prompt", i)
		}
		k.close()
		pw.Close()
	}
}
