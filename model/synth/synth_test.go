package synth_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
	"github.com/datasurface/datasurface/model/synth"
)

// count tallies a loaded model.
func count(m *model.Model) synth.Stats {
	var s synth.Stats
	s.Zones = len(m.Zones)
	s.Files = 1 + len(m.Zones)
	for _, z := range m.Zones {
		s.Teams += len(z.Defs)
		s.Files += len(z.Defs)
		for _, t := range z.Defs {
			s.Datastores += len(t.Datastores)
			s.Workspaces += len(t.Workspaces)
			s.Files += len(t.Datastores) + len(t.Workspaces)
			for _, ds := range t.Datastores {
				s.Datasets += len(ds.Datasets)
				for _, d := range ds.Datasets {
					s.Columns += len(d.Columns)
				}
			}
			for _, w := range t.Workspaces {
				s.Groups += len(w.Groups)
				for _, g := range w.Groups {
					s.Sinks += len(g.Sinks)
				}
			}
		}
	}
	return s
}

func TestShapeOfOneRepetition(t *testing.T) {
	sum := 0
	for _, n := range []int{30, 5, 8, 12, 6, 15, 16, 5, 20, 14, 17, 16, 14, 5, 8, 25, 6, 11, 7, 9, 5, 18, 6, 10, 8, 13, 5, 7, 12, 6, 24} {
		assert.True(t, n >= 5 && n <= 30)
		sum += n
	}
	assert.Equal(t, synth.SnapshotColumns, sum)
	e := synth.Expect(1)
	assert.Equal(t, synth.Stats{Reps: 1, Zones: 1, Teams: 1, Datastores: 2, Datasets: 32, Columns: 368,
		Workspaces: 4, Groups: 4, Sinks: 22, Files: 9}, e)
	assert.Equal(t, 3125, synth.Reps(100000))
	assert.Equal(t, 938, synth.Reps(30000))
}

func TestWriteLoadsAndLintsClean(t *testing.T) {
	for _, n := range []int{1, 100, 500} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			dir := t.TempDir()
			st, err := synth.Write(context.Background(), dir, n)
			require.NoError(t, err)
			want := synth.Expect(n)
			require.Positive(t, st.Bytes)
			want.Bytes = st.Bytes
			assert.Equal(t, want, st)
			assert.GreaterOrEqual(t, st.Datasets, n)
			assert.Less(t, st.Datasets, n+synth.DatasetsPerRep)

			m, loadErrs, err := model.LoadDir(context.Background(), dir)
			require.NoError(t, err)
			for _, e := range loadErrs {
				t.Error(e)
			}
			require.Empty(t, loadErrs)
			ps := lint.Lint(m)
			for _, p := range ps {
				t.Log(p)
			}
			nerr, nwarn, _ := lint.Count(ps)
			assert.Zero(t, nerr)
			assert.Zero(t, nwarn)

			got := count(m)
			got.Reps, got.Bytes = want.Reps, want.Bytes
			assert.Equal(t, want, got)

			// Every type of the mix occurs, and both airflow-iceberg and legacy serve groups.
			bases := map[model.Base]bool{}
			platforms := map[string]int{}
			for _, z := range m.Zones {
				for _, tm := range z.Defs {
					for _, ds := range tm.Datastores {
						for _, d := range ds.Datasets {
							require.Len(t, d.PrimaryKey, 1)
							for _, c := range d.Columns {
								bases[c.Type.Base] = true
							}
						}
					}
					for _, w := range tm.Workspaces {
						for _, g := range w.Groups {
							platforms[g.Platform.Name]++
						}
					}
				}
			}
			for _, b := range []model.Base{model.TypeInt32, model.TypeInt64, model.TypeVarchar, model.TypeDecimal, model.TypeDate,
				model.TypeTimestamp, model.TypeTimestampTZ, model.TypeBoolean, model.TypeFloat64, model.TypeText} {
				assert.True(t, bases[b], "type %s missing", b)
			}
			assert.Equal(t, map[string]int{"lakehouse": 3 * want.Reps, "legacy_etl": want.Reps}, platforms)
		})
	}
}

func TestWriteIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	_, err := synth.Config{Datasets: 700, Workers: 1}.Write(context.Background(), a)
	require.NoError(t, err)
	_, err = synth.Config{Datasets: 700, Workers: 7}.Write(context.Background(), b)
	require.NoError(t, err)
	fa, fb := readTree(t, a), readTree(t, b)
	require.Equal(t, len(fa), len(fb))
	for name, content := range fa {
		assert.Equal(t, content, fb[name], name)
	}
}

func TestWriteRefusesNonEmptyFolder(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "x"), nil, 0o644))
	_, err := synth.Write(context.Background(), dir, 10)
	require.ErrorContains(t, err, "not empty")
	_, err = synth.Write(context.Background(), t.TempDir(), 0)
	require.Error(t, err)
}

func readTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	require.NoError(t, err)
	return out
}
