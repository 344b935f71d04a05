package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/datasurface/datasurface/model"
)

// runStats measures one validate run for --stats.
type runStats struct {
	start               time.Time
	load, lint, reports time.Duration
}

// modelSize counts a loaded model's files, datasets and columns (top-level
// columns; struct fields are not counted).
func modelSize(m *model.Model) (files, datasets, columns int) {
	if m == nil {
		return
	}
	if m.Ecosystem != nil {
		files++
	}
	for _, z := range m.Zones {
		files++
		for _, t := range z.Defs {
			files += 1 + len(t.Datastores) + len(t.Workspaces)
			count := func(ds *model.Datastore) {
				datasets += len(ds.Datasets)
				for i := range ds.Datasets {
					columns += len(ds.Datasets[i].Columns)
				}
			}
			for _, ds := range t.Datastores {
				count(ds)
			}
			for _, w := range t.Workspaces {
				for i := range w.Transformers {
					if out := w.Transformers[i].Output; out != nil {
						count(out)
					}
				}
			}
		}
	}
	return
}

// write prints the measurements: wall time split into load, lint and
// reports, the process's CPU time (user and system, all cores: on a busy
// machine it says more than wall time), the model's size and the process's
// peak resident memory.
func (s *runStats) write(w io.Writer, m *model.Model) {
	files, datasets, columns := modelSize(m)
	rss := "unknown"
	if kib, ok := peakRSSKiB(); ok {
		rss = strconv.FormatFloat(float64(kib)/1024, 'f', 1, 64) + "MiB"
	}
	cpu := "unknown"
	if d, ok := cpuTime(); ok {
		cpu = strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
	}
	fmt.Fprintf(w, "stats: files=%d datasets=%d columns=%d load=%.3fs lint=%.3fs report=%.3fs total=%.3fs cpu=%s peak_rss=%s\n",
		files, datasets, columns, s.load.Seconds(), s.lint.Seconds(), s.reports.Seconds(), time.Since(s.start).Seconds(), cpu, rss)
}

// peakRSSKiB reads VmHWM, the peak resident set size, from /proc/self/status
// (Linux only).
func peakRSSKiB() (int64, bool) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n, err == nil
		}
	}
	return 0, false
}
