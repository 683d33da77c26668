package shell

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// plain is the editor for input that is not a terminal. Without prompts
// (a script, -c, an SSH exec request) only the commands' output is
// written, and a question is part of it, on a line of its own: a script
// answers on its next line. With prompts (an SSH shell without a PTY) the
// banner and admin: come first, and each line read is followed by a line
// end, since the client sees no echo; a line holding a Control-C is
// dropped. Output is buffered and sent before each read and at the end.
type plain struct {
	in       io.Reader // nil: no input at all (-c)
	lines    *lineReader
	w        *bufio.Writer
	prompted bool
}

// NewPlain returns the editor of a session on plain lines from in (nil
// for none: every question then goes unanswered) with output to out;
// prompted says whether it shows the banner and prompts.
func NewPlain(in io.Reader, out io.Writer, prompted bool) Editor {
	return &plain{in: in, w: bufio.NewWriterSize(out, 4096), prompted: prompted}
}

func (p *plain) start(h hooks) {
	if p.in != nil {
		p.lines = newLineReader(p.in, h.maxLine)
	}
}

func (p *plain) readLine(_ context.Context, prompt string, m mode) (string, error) {
	switch {
	case p.prompted:
		io.WriteString(p.w, prompt)
	case m != modeCommand:
		fmt.Fprintln(p.w, prompt)
	}
	p.w.Flush()
	if p.lines == nil {
		return "", io.EOF
	}
	line, err := p.lines.next()
	if p.prompted {
		io.WriteString(p.w, "\n")
		if err == nil && strings.ContainsRune(line, keyCtrlC) {
			return "", errControlC
		}
	}
	return line, err
}

func (p *plain) pagerKey(context.Context) (int, error) { return 0, nil } // never pages
func (p *plain) out() io.Writer                        { return p.w }
func (p *plain) flush()                                { p.w.Flush() }
func (p *plain) height() int                           { return 0 }
func (p *plain) prompts() bool                         { return p.prompted }
func (p *plain) history(string)                        {}
func (p *plain) close()                                { p.w.Flush() }

// lineReader reads lines of at most max bytes from a plain (non-terminal)
// input. A longer line is cut to max+1 bytes, so the command layer can
// reject it, and the rest of it is skipped without being held in memory.
type lineReader struct {
	r   *bufio.Reader
	max int
}

func newLineReader(r io.Reader, max int) *lineReader {
	return &lineReader{r: bufio.NewReaderSize(r, 64<<10), max: max}
}

// next returns the next line without its line end, and io.EOF once no
// more input is left.
func (l *lineReader) next() (string, error) {
	var line []byte
	for {
		chunk, err := l.r.ReadSlice('\n')
		if len(line) <= l.max {
			line = append(line, chunk[:min(len(chunk), l.max+1-len(line))]...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if err == io.EOF && len(line) > 0 {
			err = nil
		}
		line = bytes.TrimSuffix(line, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		return string(line), err
	}
}
