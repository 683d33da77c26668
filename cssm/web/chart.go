package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/ucmsh/ucmsh/cssm"
)

// The usage-over-time chart of a licence type, drawn as SVG by the server from
// the event log's usage history: a step line of licences in use, and a dashed
// line at what is purchased.

const chartW, chartH, chartPad = 480, 120, 30

func charts(bs []cssm.Balance, hist []cssm.UsagePoint, now time.Time) map[string]template.HTML {
	out := map[string]template.HTML{}
	for _, b := range bs {
		if b.Purchased == 0 && b.InUse == 0 && b.Reserved == 0 {
			continue
		}
		out[b.Tag] = chart(b, hist, now)
	}
	return out
}

func chart(b cssm.Balance, hist []cssm.UsagePoint, now time.Time) template.HTML {
	type pt struct {
		t time.Time
		n int
	}
	var pts []pt
	for _, h := range hist {
		n := h.InUse[b.Tag]
		if len(pts) > 0 && pts[len(pts)-1].n == n {
			continue
		}
		pts = append(pts, pt{h.Time, n})
	}
	start := now.Add(-24 * time.Hour)
	if len(pts) > 0 && pts[0].t.Before(start) {
		start = pts[0].t
	}
	top := max(b.Purchased, 1)
	for _, p := range pts {
		top = max(top, p.n)
	}
	span := now.Sub(start).Seconds()
	x := func(t time.Time) float64 {
		return chartPad + (float64(chartW-2*chartPad) * t.Sub(start).Seconds() / span)
	}
	y := func(n int) float64 {
		return float64(chartH-chartPad) - float64(chartH-2*chartPad)*float64(n)/float64(top)
	}
	var path strings.Builder
	fmt.Fprintf(&path, "M%.1f %.1f", x(start), y(0))
	for _, p := range pts {
		fmt.Fprintf(&path, " H%.1f V%.1f", x(p.t), y(p.n))
	}
	fmt.Fprintf(&path, " H%.1f", x(now))
	var s strings.Builder
	fmt.Fprintf(&s, `<svg class="chart" role="img" viewBox="0 0 %d %d" width="%d" height="%d" xmlns="http://www.w3.org/2000/svg">`, chartW, chartH, chartW, chartH)
	fmt.Fprintf(&s, `<title>%s in use over time</title>`, template.HTMLEscapeString(b.DisplayName))
	fmt.Fprintf(&s, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, chartPad, chartH-chartPad, chartW-chartPad, chartH-chartPad)
	fmt.Fprintf(&s, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%d"/>`, chartPad, chartPad, chartPad, chartH-chartPad)
	fmt.Fprintf(&s, `<line class="purchased" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, chartPad, y(b.Purchased), chartW-chartPad, y(b.Purchased))
	fmt.Fprintf(&s, `<path class="inuse" d="%s"/>`, path.String())
	fmt.Fprintf(&s, `<text x="2" y="%.1f">%d</text><text x="2" y="%.1f">0</text>`, y(top)+4, top, y(0)+4)
	fmt.Fprintf(&s, `<text x="%d" y="%d">%s</text>`, chartPad, chartH-8, start.UTC().Format(time.DateOnly))
	fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end">%s</text>`, chartW-chartPad, chartH-8, now.UTC().Format(time.DateOnly))
	fmt.Fprintf(&s, `<text class="legend" x="%d" y="16" text-anchor="end">in use (solid), purchased %d (dashed)</text>`, chartW-chartPad, b.Purchased)
	s.WriteString(`</svg>`)
	return template.HTML(s.String())
}
