package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Report reads the JSON lines the steps printed (other lines are skipped)
// and writes a markdown table of the merge, ceiling and pgmerge steps and
// the ratios the targets are stated in.
func Report(r io.Reader, w io.Writer) error {
	var all []Result
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var res Result
		if err := json.Unmarshal([]byte(line), &res); err != nil {
			return fmt.Errorf("%s: %w", line, err)
		}
		all = append(all, res)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	onOff := map[bool]string{false: "off", true: "on"}
	fmt.Fprintln(w, "| case | table rows | envelope | batch (events) | events | seconds | events/s | CPU s | peak RSS MiB | files | MiB written | load1 |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, res := range all {
		switch res.Step {
		case "merge", "ceiling":
			name, batch := "merge (merge.Run)", fmt.Sprintf("%s (%d batch%s)", thousands(int64(res.MaxEvents)), res.Batches, map[bool]string{true: "es"}[res.Batches != 1])
			if res.Step == "ceiling" {
				name, batch = "ceiling (decode + Parquet, no merge)", "all, streamed"
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2f | %s | %.1f | %.0f | %s | %.1f | %.2f |\n",
				name, thousands(res.Rows), onOff[res.Envelope], batch, thousands(res.Events), res.Seconds, thousands(int64(res.EventsPerS)),
				res.CPUSeconds, res.PeakRSSMiB, orDash(res.Files), float64(res.Bytes)/(1<<20), res.Load1)
		case "pgmerge":
			// The MERGE runs in the server; its backend's peak RSS includes
			// the shared buffers it touched. The client decodes and COPYs.
			fmt.Fprintf(w, "| PostgreSQL MERGE (statement alone) | %s | %s | one MERGE | %s | %.2f | %s | | %.0f (server backend) | - | - | %.2f |\n",
				thousands(res.Rows), onOff[res.Envelope], thousands(res.Events), res.Seconds, thousands(int64(res.EventsPerS)),
				res.ServerPeakRSSMiB, res.Load1)
			fmt.Fprintf(w, "| PostgreSQL staging load (decode + COPY + ANALYZE) + MERGE | %s | %s | one MERGE | %s | %.2f | %s | %.1f (client) | %.0f (client) | - | - | %.2f |\n",
				thousands(res.Rows), onOff[res.Envelope], thousands(res.Events), res.LoadSeconds+res.Seconds,
				thousands(int64(res.EventsPerSLoad)), res.CPUSeconds, res.PeakRSSMiB, res.Load1)
		}
	}
	fmt.Fprintln(w)
	// The ratios compare the first merge of each kind (the default batch).
	var big int64
	for _, res := range all {
		if res.Step == "merge" && res.Rows > big {
			big = res.Rows
		}
	}
	first := func(ok func(*Result) bool) *Result {
		for i := range all {
			if ok(&all[i]) {
				return &all[i]
			}
		}
		return nil
	}
	fmt.Fprintln(w, "| ratio | envelope | value | target |")
	fmt.Fprintln(w, "|---|---|---|---|")
	for _, env := range []bool{false, true} {
		m := first(func(r *Result) bool { return r.Step == "merge" && r.Rows == big && r.Envelope == env })
		if m == nil {
			continue
		}
		if c := first(func(r *Result) bool { return r.Step == "ceiling" && r.Envelope == env }); c != nil && c.EventsPerS > 0 {
			fmt.Fprintf(w, "| merge / ceiling (events/s, %s rows) | %s | %.2f | >= 0.5 |\n", thousands(big), onOff[env], m.EventsPerS/c.EventsPerS)
		}
		if !env {
			fmt.Fprintf(w, "| merge events/s (%s rows) | off | %s | >= 200,000 |\n", thousands(big), thousands(int64(m.EventsPerS)))
		}
		small := first(func(r *Result) bool {
			return r.Step == "merge" && r.Rows < big && r.Envelope == env && r.MaxEvents == m.MaxEvents
		})
		if small != nil && small.Seconds > 0 {
			fmt.Fprintf(w, "| time %s rows / time %s rows | %s | %.2f | <= 1.3 |\n", thousands(big), thousands(small.Rows), onOff[env], m.Seconds/small.Seconds)
		}
		if p := first(func(r *Result) bool { return r.Step == "pgmerge" && r.Rows == big }); p != nil && p.EventsPerS > 0 {
			fmt.Fprintf(w, "| merge / PostgreSQL MERGE (events/s; the MERGE statement alone, same changes) | %s | %.2f | report |\n", onOff[env], m.EventsPerS/p.EventsPerS)
			if p.EventsPerSLoad > 0 {
				fmt.Fprintf(w, "| merge / PostgreSQL staging load + MERGE (events/s; same changes) | %s | %.2f | report |\n", onOff[env], m.EventsPerS/p.EventsPerSLoad)
			}
		}
	}
	return nil
}

func orDash(n int64) string {
	if n == 0 {
		return "-"
	}
	return thousands(n)
}

func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
