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

// keyReader reads a remote terminal's input. While a command runs, a
// goroutine of its own reads, so that Control-C reaches the command, a
// question it asks can be interrupted, and what is typed ahead is kept
// for the next prompt; it reads at most limit bytes ahead, past that the
// client waits (SSH flow control), so a flood is never held in memory. At
// the command prompt, where nothing runs that could be interrupted, the
// reader goroutine ends once keys came, and the session reads itself; a
// parked session (whenKey) waits for its next key in that goroutine while
// it still reads, else in a fresh one: an idle session holds one small
// goroutine and no buffer here.
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
	self    bool // at the command prompt: the session reads the input itself
	running bool // the reader goroutine is reading
	last    byte // the byte readByte returned last
	again   bool // unreadByte was called: last is the next byte
	small   [64]byte

	// Made when the reader goroutine first starts: a session that never
	// runs a command does without them.
	wake   chan struct{} // input or an error arrived
	room   chan struct{} // keys were taken from a full buffer
	stop   chan struct{} // closed when the session no longer reads
	closed bool
	then   func() // what the reader goroutine runs when it stops (whenKey)
}

func newKeyReader(r io.Reader, limit int, onInterrupt func()) *keyReader {
	return &keyReader{r: r, limit: limit, onInterrupt: onInterrupt}
}

func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// take reads once and keeps what came, Control-C aside while no prompt is
// up; it reports an interrupt and whether the input has ended. One read
// at a time, by the reader goroutine or at the prompt, into a small
// buffer of the keyReader's own: the reader goroutine may still wait in
// its read long after the command ended, and should hold little there.
func (k *keyReader) take() (interrupted, ended bool) {
	p := k.small[:]
	n, err := k.r.Read(p)
	k.mu.Lock()
	defer k.mu.Unlock()
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
	return interrupted, err != nil
}

// loop reads while no command prompt is up. It ends when the input ends or
// fails (the owner of the stream closes it after the session: an SSH
// channel is closed when its session ends), or once the command prompt is
// up and keys came.
func (k *keyReader) loop() {
	for {
		interrupted, ended := k.take()
		notify(k.wake)
		if interrupted && k.onInterrupt != nil {
			k.onInterrupt()
		}
		k.mu.Lock()
		if ended || k.self {
			k.running = false
			then := k.then
			k.then = nil
			k.mu.Unlock()
			// Whoever waits for keys may have taken the wake for what
			// was read just now already: it must look again, and read
			// itself from now on.
			notify(k.wake)
			if then != nil {
				then() // a parked session goes on here
			}
			return
		}
		k.mu.Unlock()
		for {
			k.mu.Lock()
			full := len(k.buf)-k.off >= k.limit
			if !full {
				k.mu.Unlock()
				break
			}
			k.mu.Unlock()
			select {
			case <-k.room:
			case <-k.stop:
				k.mu.Lock()
				k.running = false
				k.mu.Unlock()
				notify(k.wake)
				return
			}
		}
	}
}

// close lets the goroutine end once its current Read returns.
func (k *keyReader) close() {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.stop != nil && !k.closed {
		close(k.stop)
	}
	k.closed = true
}

// setReading says whether keys are being read (a prompt is up), and
// whether it is the command prompt (self), where the session may read the
// input itself. Anywhere else the reader goroutine reads, and starts if
// need be.
func (k *keyReader) setReading(on, self bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.reading, k.self = on, on && self
	k.startLocked()
}

// startLocked starts the reader goroutine unless the session reads
// itself, the input has ended or the goroutine runs already.
func (k *keyReader) startLocked() {
	if !k.self && !k.running && k.err == nil && !k.closed {
		if k.wake == nil {
			k.wake, k.room, k.stop = make(chan struct{}, 1), make(chan struct{}, 1), make(chan struct{})
		}
		k.running = true
		go k.loop()
	}
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
		k.startLocked()
		err, running := k.err, k.running
		k.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if !running {
			k.readSelf()
			continue
		}
		select {
		case <-k.wake:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// whenKey runs f in a goroutine of its own once a key can be read
// without waiting or the input has ended: in the reader goroutine when
// one still reads for the command that just ended (so that an idle
// session keeps one goroutine waiting, not two), else in a new one.
func (k *keyReader) whenKey(f func()) {
	k.mu.Lock()
	if k.running {
		k.then = f
		k.mu.Unlock()
		return
	}
	k.mu.Unlock()
	go func() {
		k.wait()
		f()
	}()
}

// wait returns once a key can be read without waiting, or the input has
// ended: a parked session waits so, with nothing else on its stack. It
// reads itself, or, while the reader goroutine still reads (never so when
// whenKey calls it), waits for that goroutine.
func (k *keyReader) wait() {
	for {
		k.mu.Lock()
		ready := k.again || k.off < len(k.buf) || k.err != nil
		running := k.running
		k.mu.Unlock()
		switch {
		case ready:
			return
		case running:
			<-k.wake
		default:
			k.readSelf()
		}
	}
}

// readSelf reads once in the caller's goroutine, as the session does at
// the prompt when no reader goroutine runs.
func (k *keyReader) readSelf() {
	if interrupted, _ := k.take(); interrupted && k.onInterrupt != nil {
		k.onInterrupt()
	}
}

// unreadByte puts back the byte just read (one at most), even when the
// buffer it came from has been reset.
func (k *keyReader) unreadByte() {
	k.mu.Lock()
	k.again = true
	k.mu.Unlock()
}
