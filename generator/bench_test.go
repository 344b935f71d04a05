package generator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/synth"
)

// BenchmarkGenerate renders synthetic models (datasurface synth) of 30,000
// and 100,000 datasets; loading and linting are outside the timed part (see
// model/synth's BenchmarkLoadLint for those):
//
//	go test ./generator -run '^$' -bench Generate -benchmem
func BenchmarkGenerate(b *testing.B) {
	for _, n := range []int{30000, 100000} {
		b.Run(fmt.Sprintf("datasets=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			if _, err := synth.Write(context.Background(), dir, n); err != nil {
				b.Fatal(err)
			}
			m, errs, err := model.LoadDir(context.Background(), dir)
			if err != nil || len(errs) > 0 {
				b.Fatal(err, errs)
			}
			b.ReportAllocs()
			b.ResetTimer()
			files := 0
			for b.Loop() {
				t, err := generator.Generate(context.Background(), m, generator.Options{Version: "bench"})
				if err != nil {
					b.Fatal(err)
				}
				files = len(t.Files)
			}
			b.ReportMetric(float64(files), "files")
		})
	}
}
