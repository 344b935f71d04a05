package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/model"
	"github.com/datasurface/datasurface/model/lint"
)

// loadValid loads a model and refuses one that cannot be read or has lint
// errors, printing the problems.
func loadValid(cmd *cobra.Command, mf *modelFlags, args []string, p *progress) (*model.Model, error) {
	p.begin("loading the model from %s", mf.describe(args))
	m, loadErrs, err := mf.load(cmd, args)
	if err == nil {
		p.loaded("the model", m)
		p.begin("linting")
	}
	m, err = checkValid(cmd, m, loadErrs, err)
	if err == nil {
		p.done("no lint errors")
	}
	return m, err
}

// checkValid takes what a load returned and refuses a model that could not
// be read (exit 2) or has lint errors (exit 1), printing the problems.
func checkValid(cmd *cobra.Command, m *model.Model, loadErrs []*model.LoadError, err error) (*model.Model, error) {
	if err != nil {
		return nil, &exitError{code: exitUnread, err: err}
	}
	if len(loadErrs) > 0 {
		_ = lint.Write(cmd.ErrOrStderr(), "human", m.Source, lint.FromLoadErrors(loadErrs))
		return nil, &exitError{code: exitUnread, err: fmt.Errorf("%s cannot be read", m.Source)}
	}
	ps := lint.Lint(m)
	if n, _, _ := lint.Count(ps); n > 0 {
		_ = lint.Write(cmd.ErrOrStderr(), "human", m.Source, ps)
		return nil, &exitError{code: exitProblems, err: fmt.Errorf("%s has %d lint errors; fix them first (datasurface validate)", m.Source, n)}
	}
	return m, nil
}

func newGenerate() *cobra.Command {
	var mf modelFlags
	var out, templatesDir string
	var quiet, list bool
	cmd := &cobra.Command{
		Use:   "generate [MODEL | --repo PATH --rev REV] --out DIR [--quiet] [--list]",
		Short: "Render the deploy tree (DAGs, connector configs, job specs, Trino views) into a folder",
		Long: `Render the deploy tree of a model into DIR.

The output is byte-identical for the same model. Files the model no longer
needs are removed if this command generated them (MANIFEST.json records what
it owns); files it did not generate are never touched; unchanged files are not
rewritten.

Progress (what it is doing, counts, elapsed time) goes to stderr; --quiet
silences it. stdout holds the result: one line with the counts of files
added, changed, removed and unchanged, preceded with --list by a line per
file added, changed or removed.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				return &exitError{code: exitUnread, err: fmt.Errorf("--out is required: the folder to render into")}
			}
			p := newProgress(cmd, quiet)
			m, err := loadValid(cmd, &mf, args, p)
			if err != nil {
				return err
			}
			p.begin("rendering the deploy tree")
			tree, err := generator.Generate(cmd.Context(), m, generator.Options{Version: version, TemplatesDir: templatesDir})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			p.done("rendered %s", count(len(tree.Files), "file"))
			for _, w := range tree.Warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			p.begin("writing into %s", out)
			res, err := generator.Write(out, tree)
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			summary := fmt.Sprintf("%s: %d added, %d changed, %d removed, %d unchanged", out, len(res.Added), len(res.Changed), len(res.Removed), len(res.Unchanged))
			p.done("wrote %s", summary)
			p.finish("done")
			w := cmd.OutOrStdout()
			if list {
				listChanges(w, res.Added, res.Changed, res.Removed)
			}
			fmt.Fprintln(w, summary)
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVar(&out, "out", "", "the folder to render into")
	cmd.Flags().StringVar(&templatesDir, "templates", "", "a folder of templates overriding the embedded ones by file name")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print no progress on stderr (warnings and errors still are)")
	cmd.Flags().BoolVar(&list, "list", false, "also print a line per file added, changed or removed on stdout")
	return cmd
}
