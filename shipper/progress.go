package shipper

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// ProgressPrinter renders ReplayProgress: a bar redrawn in place on a
// terminal, plain lines every ten seconds otherwise.
type ProgressPrinter struct {
	w        io.Writer
	terminal bool
	last     time.Duration
}

// NewProgressPrinter returns a printer writing to w.
func NewProgressPrinter(w io.Writer, terminal bool) *ProgressPrinter {
	return &ProgressPrinter{w: w, terminal: terminal, last: -time.Hour}
}

// Update prints p; pass it to Shipper.Replay.
func (pp *ProgressPrinter) Update(p ReplayProgress) {
	if pp.terminal {
		fmt.Fprintf(pp.w, "\r%s", FormatProgress(p, true))
		if p.Done {
			fmt.Fprintln(pp.w)
		}
		return
	}
	if p.Done || p.Elapsed-pp.last >= 10*time.Second {
		pp.last = p.Elapsed
		fmt.Fprintln(pp.w, FormatProgress(p, false))
	}
}

// FormatProgress formats p: bytes done of the total, documents per
// second and the time left; with bar, a 30-column bar first.
func FormatProgress(p ReplayProgress, bar bool) string {
	frac := 1.0
	if p.Total > 0 {
		frac = min(1, float64(p.Bytes)/float64(p.Total))
	}
	secs := p.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(p.Documents) / secs
	}
	left := "?"
	if p.Done {
		left = "0s"
	} else if p.Bytes > 0 && secs > 0 {
		rem := time.Duration(float64(p.Total-p.Bytes) / (float64(p.Bytes) / secs) * float64(time.Second))
		left = rem.Round(time.Second).String()
	}
	var b strings.Builder
	if bar {
		const width = 30
		n := int(frac * width)
		b.WriteByte('[')
		b.WriteString(strings.Repeat("=", n))
		if n < width {
			b.WriteByte('>')
			b.WriteString(strings.Repeat(" ", width-n-1))
		}
		b.WriteString("] ")
	}
	fmt.Fprintf(&b, "%3.0f%% %s / %s", frac*100, size(p.Bytes), size(p.Total))
	if p.Files > 0 {
		fmt.Fprintf(&b, " of %d files", p.Files)
	}
	fmt.Fprintf(&b, ", %d documents, %.0f docs/s, %s left", p.Documents, rate, left)
	return b.String()
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
