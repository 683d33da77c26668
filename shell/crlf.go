package shell

import (
	"io"
	"sync"
	"unicode/utf8"
)

// A terminal at the other end of a stream (an SSH channel with a PTY) has
// no terminal driver between us and it: nothing turns the "\n" we write
// into "\r\n", nor the CR that Enter sends into "\n". These two do.

// NewCRLFWriter returns a writer that turns "\n" into "\r\n".
func NewCRLFWriter(w io.Writer) io.Writer { return &crlfWriter{w: w} }

type crlfWriter struct {
	w      io.Writer
	lastCR bool
	tmp    []byte
}

func (c *crlfWriter) Write(p []byte) (int, error) {
	c.tmp = c.tmp[:0]
	for _, b := range p {
		if b == '\n' && !c.lastCR {
			c.tmp = append(c.tmp, '\r')
		}
		c.tmp = append(c.tmp, b)
		c.lastCR = b == '\r'
	}
	if _, err := c.w.Write(c.tmp); err != nil {
		return 0, err
	}
	if cap(c.tmp) > 64<<10 {
		c.tmp = nil
	}
	return len(p), nil
}

// NewCRReader returns a reader that turns the CR (or CR LF) that ends a
// line typed on a terminal into LF, for plain lines from a terminal (ssh
// -t host 'command').
func NewCRReader(r io.Reader) io.Reader { return &crReader{r: r} }

type crReader struct {
	r      io.Reader
	lastCR bool
}

func (c *crReader) Read(p []byte) (int, error) {
	for {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			switch {
			case b == '\n' && c.lastCR:
				c.lastCR = false
				continue
			case b == '\r':
				c.lastCR = true
				b = '\n'
			default:
				c.lastCR = false
			}
			p[j] = b
			j++
		}
		if j > 0 || err != nil || n == 0 {
			return j, err
		}
	}
}

// termWriter is a remote terminal's output: it turns "\n" into "\r\n" and
// gathers what is written until Flush (or 4 KiB), as a bufio.Writer over a
// crlfWriter would. Between flushes it holds no memory, so an idle session
// keeps no buffer. A write error sticks, as in bufio.
type termWriter struct {
	w      io.Writer
	buf    *[]byte // from outBufs while output waits
	lastCR bool
	err    error
}

const termFlushAt = 4096

var outBufs = sync.Pool{New: func() any { b := make([]byte, 0, termFlushAt+1); return &b }}

func (t *termWriter) add(c byte) {
	if t.buf == nil {
		t.buf = outBufs.Get().(*[]byte)
	}
	if c == '\n' && !t.lastCR {
		*t.buf = append(*t.buf, '\r')
	}
	*t.buf = append(*t.buf, c)
	t.lastCR = c == '\r'
	if len(*t.buf) >= termFlushAt {
		t.Flush()
	}
}

func (t *termWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		if t.err != nil {
			return 0, t.err
		}
		t.add(c)
	}
	return len(p), t.err
}

func (t *termWriter) WriteString(s string) (int, error) {
	for i := 0; i < len(s); i++ {
		if t.err != nil {
			return 0, t.err
		}
		t.add(s[i])
	}
	return len(s), t.err
}

func (t *termWriter) WriteByte(c byte) error {
	if t.err == nil {
		t.add(c)
	}
	return t.err
}

func (t *termWriter) WriteRune(r rune) (int, error) {
	var a [utf8.UTFMax]byte
	return t.Write(utf8.AppendRune(a[:0], r))
}

// Flush writes what waits and gives the buffer back.
func (t *termWriter) Flush() error {
	if t.buf == nil {
		return t.err
	}
	if len(*t.buf) > 0 && t.err == nil {
		_, t.err = t.w.Write(*t.buf)
	}
	*t.buf = (*t.buf)[:0]
	outBufs.Put(t.buf)
	t.buf = nil
	return t.err
}
