package shell

import "io"

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
