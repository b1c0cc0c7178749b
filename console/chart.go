package console

import (
	"fmt"
	"time"

	"github.com/ginkey/ginkey"
	"github.com/ginkey/ginkey/observe"
)

// chartDays is how many UTC days a key's chart shows, today included.
const chartDays = 30

// The chart's geometry, in SVG user units.
const (
	chartLeft   = 44
	chartTop    = 12
	chartHeight = 180
	chartSlot   = 19 // per day
	chartBar    = 15
	chartWidth  = chartLeft + chartDays*chartSlot + 8
	chartBottom = chartTop + chartHeight
)

// chart is a key's requests per day, stacked by outcome, laid out for the
// SVG of the detail page; the page's table shows the same numbers.
type chart struct {
	Width, Height int
	Bottom        int
	Max           int64
	Segments      []segment
	Labels        []axisLabel
	Days          []chartDay // the days with any requests, for the table
	Patterns      []pattern
}

type segment struct {
	Day, Outcome string
	Count        int64
	X, Y, W, H   int
}

type axisLabel struct {
	X, Y int
	Text string
	End  bool // anchored at its end
}

type chartDay struct {
	Day      string
	Total    int64
	Outcomes ginkey.Outcomes
}

// pattern fills one outcome's segments: a colour and a texture, so that
// the chart reads without colour (with the legend's names).
type pattern struct {
	Outcome, Color, Path string
}

// patterns, in observe.KeyOutcomes order.
var patterns = []pattern{
	{"valid", "#1e6b34", ""},
	{"expired", "#6e7781", "M0 0L8 8"},
	{"revoked", "#8c1d18", "M0 8L8 0M0 0L8 8"},
	{"insufficient_scope", "#b35c00", "M4 4h.01"},
	{"ip_not_allowed", "#6639ba", "M0 4H8"},
	{"rate_limited", "#cf222e", "M0 8L8 0"},
	{"quota_exceeded", "#0550ae", "M4 0V8"},
}

// newChart lays out rep's last chartDays days up to now's UTC day.
func newChart(rep ginkey.UsageReport, now time.Time) chart {
	ch := chart{Width: chartWidth, Height: chartBottom + 24, Bottom: chartBottom, Patterns: patterns}
	byDay := map[string]ginkey.Outcomes{}
	for _, d := range rep.Daily {
		byDay[d.Date] = d.Outcomes
	}
	first := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -(chartDays - 1))
	days := make([]string, chartDays)
	for i := range days {
		days[i] = first.AddDate(0, 0, i).Format(time.DateOnly)
		o := byDay[days[i]]
		if total := o.Valid + o.Refused(); total > 0 {
			ch.Max = max(ch.Max, total)
			ch.Days = append(ch.Days, chartDay{Day: days[i], Total: total, Outcomes: o})
		}
	}
	scale := max(ch.Max, 1)
	for i, day := range days {
		o := byDay[day]
		x := chartLeft + i*chartSlot + (chartSlot-chartBar)/2
		var below int64 // the day's requests already stacked
		for _, code := range observe.KeyOutcomes() {
			n := o.Count(code)
			if n == 0 {
				continue
			}
			// Edges are placed from the running total, so that the
			// segments of a day add up to its bar, rounding aside.
			y0 := chartBottom - int(below*chartHeight/scale)
			below += n
			y1 := chartBottom - int(below*chartHeight/scale)
			h := max(y0-y1, 1)
			ch.Segments = append(ch.Segments, segment{Day: day, Outcome: code, Count: n, X: x, Y: y0 - h, W: chartBar, H: h})
		}
		// A label a week, and the last day's, not crowding the one before.
		if (i%7 == 0 && i < chartDays-3) || i == chartDays-1 {
			ch.Labels = append(ch.Labels, axisLabel{X: x + chartBar/2, Y: chartBottom + 16, Text: day[5:]})
		}
	}
	ch.Labels = append(ch.Labels,
		axisLabel{X: chartLeft - 6, Y: chartBottom, Text: "0", End: true},
		axisLabel{X: chartLeft - 6, Y: chartTop + 8, Text: fmt.Sprint(ch.Max), End: true})
	return ch
}
