package synth_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
	"github.com/datasurface/datasurface/model/synth"
)

// BenchmarkLoadLint times loading and linting a synthetic model. The model is
// written once per size, outside the timed part; benchmarks run only with
// -bench, so plain go test pays nothing for them. For profiles:
//
//	go test ./model/synth -run '^$' -bench 'LoadLint/datasets=100000' -benchmem \
//	    -cpuprofile cpu.out -memprofile mem.out
func BenchmarkLoadLint(b *testing.B) {
	for _, n := range []int{30000, 100000} {
		b.Run(fmt.Sprintf("datasets=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			st, err := synth.Write(context.Background(), dir, n)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			cpu := cpuTime()
			for b.Loop() {
				m, loadErrs, err := model.LoadDir(context.Background(), dir)
				if err != nil || len(loadErrs) > 0 {
					b.Fatal(err, loadErrs)
				}
				if ps := lint.Lint(m); len(ps) > 0 {
					b.Fatal(ps[0])
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(st.Columns), "columns")
		})
	}
}

// BenchmarkLoad and BenchmarkLint time the two halves separately.
func BenchmarkLoad(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.Write(context.Background(), dir, 100000); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if _, loadErrs, err := model.LoadDir(context.Background(), dir); err != nil || len(loadErrs) > 0 {
			b.Fatal(err, loadErrs)
		}
	}
	reportCPU(b, cpu)
}

func BenchmarkLint(b *testing.B) {
	dir := b.TempDir()
	if _, err := synth.Write(context.Background(), dir, 100000); err != nil {
		b.Fatal(err)
	}
	m, loadErrs, err := model.LoadDir(context.Background(), dir)
	if err != nil || len(loadErrs) > 0 {
		b.Fatal(err, loadErrs)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	for b.Loop() {
		if ps := lint.Lint(m); len(ps) > 0 {
			b.Fatal(ps[0])
		}
	}
	reportCPU(b, cpu)
}

// reportCPU reports the CPU time (user and system, all threads) per
// operation since start: on a busy machine it varies less than wall time.
func reportCPU(b *testing.B, start time.Duration) {
	if start > 0 {
		b.ReportMetric((cpuTime()-start).Seconds()/float64(b.N), "cpu-s/op")
	}
}

// BenchmarkWrite times the generator itself.
func BenchmarkWrite(b *testing.B) {
	for b.Loop() {
		if _, err := synth.Write(context.Background(), b.TempDir(), 30000); err != nil {
			b.Fatal(err)
		}
	}
}
