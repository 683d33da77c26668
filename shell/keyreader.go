package shell

import (
	"context"
	"io"
	"sync"
)

const (
	keyCtrlC = 0x03
	keyEsc   = 0x1b
)

// keyReader reads a remote terminal's input in its own goroutine, so that
// Control-C reaches a running command, and keeps what is typed ahead for
// the next prompt. It reads at most limit bytes ahead; past that the
// client waits (SSH flow control), so a flood is never held in memory.
//
// A Control-C that arrives while nobody is reading keys (a command runs)
// interrupts the command and drops what was typed ahead of it, as a
// terminal driver does on SIGINT. While keys are being read it is a key
// like the others.
type keyReader struct {
	r           io.Reader
	limit       int
	onInterrupt func()

	mu      sync.Mutex
	buf     []byte
	off     int
	err     error
	reading bool
	last    byte // the byte readByte returned last
	again   bool // unreadByte was called: last is the next byte

	wake chan struct{} // input or an error arrived
	room chan struct{} // keys were taken from a full buffer
	stop chan struct{} // closed when the session no longer reads
	done chan struct{} // the goroutine ended
}

func newKeyReader(r io.Reader, limit int, onInterrupt func()) *keyReader {
	k := &keyReader{
		r: r, limit: limit, onInterrupt: onInterrupt,
		wake: make(chan struct{}, 1), room: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go k.loop()
	return k
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// loop ends when the input ends or fails: the owner of the stream closes
// it after the session (an SSH channel is closed when its session ends).
func (k *keyReader) loop() {
	defer close(k.done)
	p := make([]byte, 2048)
	for {
		n, err := k.r.Read(p)
		interrupted := false
		k.mu.Lock()
		for _, b := range p[:n] {
			if b == keyCtrlC && !k.reading {
				k.buf, k.off = k.buf[:0], 0
				interrupted = true
				continue
			}
			k.buf = append(k.buf, b)
		}
		if err != nil {
			k.err = err
		}
		k.mu.Unlock()
		notify(k.wake)
		if interrupted && k.onInterrupt != nil {
			k.onInterrupt()
		}
		if err != nil {
			return
		}
		for {
			k.mu.Lock()
			full := len(k.buf)-k.off >= k.limit
			k.mu.Unlock()
			if !full {
				break
			}
			select {
			case <-k.room:
			case <-k.stop:
				return
			}
		}
	}
}

// close lets the goroutine end once its current Read returns.
func (k *keyReader) close() { close(k.stop) }

// setReading says whether keys are being read (a prompt is up).
func (k *keyReader) setReading(on bool) {
	k.mu.Lock()
	k.reading = on
	k.mu.Unlock()
}

// buffered reports whether a key can be read without waiting.
func (k *keyReader) buffered() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.again || k.off < len(k.buf)
}

// readByte returns the next input byte, waiting for it if need be.
func (k *keyReader) readByte(ctx context.Context) (byte, error) {
	for {
		k.mu.Lock()
		if k.again {
			k.again = false
			k.mu.Unlock()
			return k.last, nil
		}
		if k.off < len(k.buf) {
			b := k.buf[k.off]
			k.last = b
			k.off++
			if k.off == len(k.buf) {
				k.buf, k.off = k.buf[:0], 0
				if cap(k.buf) > 16<<10 {
					k.buf = nil // a paste is over: give its memory back
				}
			} else if k.off >= 4096 && k.off*2 >= len(k.buf) {
				k.buf, k.off = k.buf[:copy(k.buf, k.buf[k.off:])], 0
			}
			k.mu.Unlock()
			notify(k.room)
			return b, nil
		}
		err := k.err
		k.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-k.wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// unreadByte puts back the byte just read (one at most), even when the
// buffer it came from has been reset.
func (k *keyReader) unreadByte() {
	k.mu.Lock()
	k.again = true
	k.mu.Unlock()
}
