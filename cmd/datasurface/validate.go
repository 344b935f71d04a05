package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/jobspec"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// modelFlags select a model: a folder argument, or --repo and --rev.
type modelFlags struct {
	repo, rev, path string
	lim             limitFlags
}

func (f *modelFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.repo, "repo", "", "read the model from this git repository (with --rev) instead of a folder")
	cmd.Flags().StringVar(&f.rev, "rev", "", "the git revision to read with --repo (branch, tag, commit, HEAD~1, ...)")
	cmd.Flags().StringVar(&f.path, "path", "", "the model's folder inside the repository (with --repo)")
	f.lim.register(cmd)
}

// describe names the model the arguments and flags select, for progress.
func (f *modelFlags) describe(args []string) string {
	if f.repo != "" || f.rev != "" {
		repo := f.repo
		if repo == "" {
			repo = "."
		}
		s := repo + " at " + f.rev
		if f.path != "" {
			s += " (" + f.path + ")"
		}
		return s
	}
	if len(args) == 1 {
		return args[0]
	}
	return "."
}

// load reads the model named by the arguments and flags.
func (f *modelFlags) load(cmd *cobra.Command, args []string) (*model.Model, []*model.LoadError, error) {
	ctx := cmd.Context()
	if f.repo != "" || f.rev != "" {
		if len(args) > 0 {
			return nil, nil, fmt.Errorf("give a folder or --repo/--rev, not both")
		}
		if f.repo == "" {
			f.repo = "."
		}
		if f.rev == "" {
			return nil, nil, fmt.Errorf("--repo needs --rev: the revision to read")
		}
		return model.LoadWith(ctx, &model.GitSource{Repo: f.repo, Rev: f.rev, Dir: f.path}, f.lim.limits())
	}
	dir := "."
	if len(args) == 1 {
		dir = args[0]
	}
	return model.LoadWith(ctx, model.DirSource(dir), f.lim.limits())
}

func newValidate() *cobra.Command {
	var mf modelFlags
	var format string
	var reports []string
	var stats bool
	cmd := &cobra.Command{
		Use:   "validate [DIR | --repo PATH --rev REV]",
		Short: "Lint a model and report its problems",
		Long: `Lint a model: names, references, schemas, capture, policies, deprecations and platforms.

Exit status: 0 when there are no errors, 1 when there are, 2 when the model
cannot be read (YAML syntax, unknown or duplicate keys, wrong types).

--report FORMAT=FILE writes an extra report, e.g. for GitLab:
  --report codequality=gl-code-quality-report.json --report junit=lint-junit.xml

--stats prints to stderr, after the report, the wall time of loading and of
linting, the CPU time, the model's size and the peak resident memory.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st := runStats{start: time.Now()}
			m, loadErrs, err := mf.load(cmd, args)
			if err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			st.load = time.Since(st.start)
			source := m.Source
			var ps []lint.Problem
			code := exitOK
			if len(loadErrs) > 0 {
				ps, code = lint.FromLoadErrors(loadErrs), exitUnread
			} else {
				ps = lint.Lint(m)
				if n, _, _ := lint.Count(ps); n > 0 {
					code = exitProblems
				}
			}
			st.lint = time.Since(st.start) - st.load
			if err := lint.Write(cmd.OutOrStdout(), format, source, ps); err != nil {
				return &exitError{code: exitUnread, err: err}
			}
			for _, r := range reports {
				if err := writeReport(r, source, ps); err != nil {
					return &exitError{code: exitUnread, err: err}
				}
			}
			if stats {
				st.reports = time.Since(st.start) - st.load - st.lint
				st.write(cmd.ErrOrStderr(), m)
			}
			if code != exitOK {
				return &exitError{code: code}
			}
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&format, "format", "human", "output format: "+strings.Join(lint.Formats, ", "))
	cmd.Flags().StringArrayVar(&reports, "report", nil, "also write FORMAT=FILE (repeatable)")
	cmd.Flags().BoolVar(&stats, "stats", false, "print timings, model size and peak memory to stderr")
	return cmd
}

func writeReport(spec, source string, ps []lint.Problem) error {
	format, file, ok := strings.Cut(spec, "=")
	if !ok || file == "" {
		return fmt.Errorf("--report %q: write FORMAT=FILE, e.g. junit=lint.xml", spec)
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := lint.Write(f, format, source, ps); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newJobSpecSchema() *cobra.Command {
	return &cobra.Command{
		Use:   "jobspec-schema",
		Short: "Print the JSON Schema of merge-runner job specs",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := jobspec.JSONSchema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}

func newSchema() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of the model files (for editors and CI)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := model.JSONSchema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(b)
			return err
		},
	}
}
