package cssm

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
)

// Encoding cssm.json. The file is what json.Marshal would make of State, laid out
// as indented accounts and tokens followed by one line per instance. Instances
// are most of the file and few change between two saves, so each one's line is
// kept with a snapshot of the instance it was made from and reused while the
// instance still equals the snapshot. Comparing (not marking changes) means no
// code path can forget to invalidate a line.

type encoded struct {
	snap Instance // deep copy of the instance line was made from
	line []byte   // "\n  \"<id>\": {...}"
	gen  uint64   // last save that used it
}

type encodeCache struct {
	lines map[string]*encoded
	gen   uint64
}

// encode appends the state's JSON to buf.
func (st *State) encode(buf *bytes.Buffer) error {
	head := *st
	head.Instances = nil
	hdr, err := json.MarshalIndent(&head, "", " ")
	if err != nil {
		return err
	}
	// hdr ends with "\n}"; the instances object goes before that brace.
	hdr = bytes.TrimSuffix(bytes.TrimRight(hdr, "\n"), []byte("}"))
	hdr = bytes.TrimRight(hdr, "\n")
	buf.Write(hdr)
	buf.WriteString(",\n \"instances\": {")

	c := &st.enc
	if c.lines == nil {
		c.lines = map[string]*encoded{}
	}
	c.gen++
	ids := slices.Sorted(maps.Keys(st.Instances))
	for i, id := range ids {
		in := st.Instances[id]
		e := c.lines[id]
		if e == nil || !sameInstance(&e.snap, in) {
			key, err := json.Marshal(id)
			if err != nil {
				return err
			}
			val, err := json.Marshal(in)
			if err != nil {
				return err
			}
			e = &encoded{snap: snapshot(in), line: fmt.Appendf(nil, "\n  %s: %s", key, val)}
			c.lines[id] = e
		}
		e.gen = c.gen
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.Write(e.line)
	}
	if len(c.lines) > len(ids) {
		maps.DeleteFunc(c.lines, func(_ string, e *encoded) bool { return e.gen != c.gen })
	}
	if len(ids) > 0 {
		buf.WriteString("\n ")
	}
	buf.WriteString("}\n}\n")
	return nil
}

func snapshot(in *Instance) Instance {
	s := *in
	s.Usage = maps.Clone(in.Usage)
	s.ExportKeys = slices.Clone(in.ExportKeys)
	s.Reservation = in.Reservation.clone()
	return s
}

// sameInstance compares every field of Instance (TestSameInstanceSeesEveryField
// fails when a new field is not compared here).
func sameInstance(a, b *Instance) bool {
	return a.ID == b.ID &&
		a.UDI == b.UDI &&
		a.Hostname == b.Hostname &&
		a.Version == b.Version &&
		a.VirtualAccount == b.VirtualAccount &&
		a.ExportAllowed == b.ExportAllowed &&
		a.CredentialSHA256 == b.CredentialSHA256 &&
		a.Registered == b.Registered &&
		a.RenewedID == b.RenewedID &&
		a.LastSeen == b.LastSeen &&
		a.UsageReported == b.UsageReported &&
		maps.Equal(a.Usage, b.Usage) &&
		slices.Equal(a.ExportKeys, b.ExportKeys) &&
		sameReservation(a.Reservation, b.Reservation)
}
