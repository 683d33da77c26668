package shell

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

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
