package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/datasurface/datasurface/generator"
	"github.com/datasurface/datasurface/generator/publish"
	"github.com/datasurface/datasurface/model"
)

func newPublishCmd() *cobra.Command {
	var repo, rev, path, deployRepo, branch, suffix, templatesDir string
	var force, quiet, list bool
	var keep []string
	var lim limitFlags
	cmd := &cobra.Command{
		Use:   "publish [MODEL | --repo PATH --rev REV] --deploy-repo URL [--branch B] [--force] [--quiet] [--list]",
		Short: "Render the model and commit the deploy tree to the deploy repository",
		Long: `Render the model and commit the deploy tree to a branch of the deploy
repository, with go-git, as the model repository's default-branch pipeline does
on merge. The model is read from a git revision (default: --repo . --rev HEAD,
so the model commit is known) or, for local use, from the folder MODEL.

The deploy repository is wholly generated except an allowlist of files people
maintain, which publish never touches: ` + strings.Join(publish.DefaultKeep, ", ") + `
(--keep adds paths; a path ending in "/" keeps a folder). The branch ends up
holding exactly the generated tree (MANIFEST.json and the files it lists) plus
those files; anything else is removed. The branch is created when absent.

One commit per publish, only when a generated file changes (a model commit that
changes no artifact publishes nothing). Its message names the model commit and,
when known, the merge request (from the "See merge request group/project!N" line
GitLab writes on merge, or CI_MERGE_REQUEST_IID), with the trailers
Model-Commit and Generator-Version. Author and committer are
"DataSurface <datasurface@localhost>" unless GIT_AUTHOR_NAME/GIT_AUTHOR_EMAIL
(and GIT_COMMITTER_NAME/GIT_COMMITTER_EMAIL) say otherwise.

Publish refuses when the branch has commits since its last publish commit that
it did not make and that change generated files (commits touching only the
allowlist are fine); --force publishes over them, overwriting their changes.
It does not publish a model commit older than the one already published
(a late pipeline) unless --force. A push rejected because the branch moved is
redone once on the new head.

Authentication for an http(s) deploy repository: DATASURFACE_DEPLOY_TOKEN, sent
as HTTP basic auth with the user name DATASURFACE_DEPLOY_USER, which defaults to
"gitlab-ci-token" when the token is the job's CI_JOB_TOKEN and "oauth2"
otherwise (a project, group or personal access token with write_repository).
Paths and file:// URLs need none; ssh uses the SSH agent.

Progress (what it is doing, counts, elapsed time) goes to stderr; --quiet
silences it. stdout holds the result: the commit made and the counts of files
added, changed, removed and unchanged (with --list, first a line per file
added, changed or removed), or why there was nothing to publish.

Exit status: 0 when published or when there was nothing to publish; 1 when the
model has lint errors or publishing failed or was refused; 2 when the model or
the command line cannot be read.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if deployRepo == "" {
				deployRepo = os.Getenv("DATASURFACE_DEPLOY_REPO")
			}
			if deployRepo == "" {
				return &exitError{code: exitUnread, err: errors.New("--deploy-repo is required: the deploy repository's URL or path")}
			}
			if branch == "" {
				return &exitError{code: exitUnread, err: errors.New("--branch is empty: name the deploy branch")}
			}
			ctx := cmd.Context()
			p := newProgress(cmd, quiet)
			var (
				m         *model.Model
				loadErrs  []*model.LoadError
				err       error
				modelRepo string
			)
			if len(args) == 1 {
				if repo != "" || rev != "" || path != "" {
					return &exitError{code: exitUnread, err: errors.New("give a model folder or --repo/--rev, not both")}
				}
				p.begin("loading the model from %s", args[0])
				m, loadErrs, err = model.LoadWith(ctx, model.DirSource(args[0]), lim.limits())
			} else {
				if repo == "" {
					repo = "."
				}
				if rev == "" {
					rev = "HEAD"
				}
				modelRepo = repo
				p.begin("loading the model from %s at %s", repo, rev)
				m, loadErrs, err = model.LoadWith(ctx, &model.GitSource{Repo: repo, Rev: rev, Dir: path}, lim.limits())
			}
			if err == nil {
				p.loaded("the model", m)
				p.begin("linting")
			}
			if m, err = checkValid(cmd, m, loadErrs, err); err != nil {
				return err
			}
			p.done("no lint errors")
			p.begin("rendering the deploy tree")
			tree, err := generator.Generate(ctx, m, generator.Options{Version: version, TemplatesDir: templatesDir})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			p.done("rendered %s", count(len(tree.Files), "file"))
			stderr := cmd.ErrOrStderr()
			for _, w := range tree.Warnings {
				fmt.Fprintln(stderr, "warning:", w)
			}
			if os.Getenv(publish.EnvToken) != "" && !publish.IsHTTP(deployRepo) {
				fmt.Fprintf(stderr, "warning: %s is only sent to http(s) deploy repositories; not to %s\n", publish.EnvToken, publish.Redact(deployRepo))
			}
			author, committer := publish.IdentityFromEnv(os.Getenv)
			p.begin("publishing to %s branch %s", publish.Redact(deployRepo), branch)
			res, err := publish.Publish(ctx, tree, publish.Options{
				Repo:          deployRepo,
				Branch:        branch,
				Auth:          publish.AuthFromEnv(deployRepo, os.Getenv),
				Force:         force,
				Model:         publish.DescribeModel(modelRepo, m.Commit, m.Source, os.Getenv),
				Version:       version,
				MessageSuffix: suffix,
				Author:        author,
				Committer:     committer,
				Keep:          append(append([]string(nil), publish.DefaultKeep...), keep...),
				ModelRepo:     modelRepo,
			})
			if err != nil {
				return &exitError{code: exitProblems, err: err}
			}
			if res.Commit == "" {
				p.done("nothing to commit")
			} else {
				p.done("committed and pushed")
			}
			p.finish("done")
			printPublish(cmd, res, m, list)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&repo, "repo", "", `the model's git repository (default ".")`)
	f.StringVar(&rev, "rev", "", `the model revision to publish (default "HEAD")`)
	f.StringVar(&path, "path", "", "the model's folder inside the repository")
	f.StringVar(&deployRepo, "deploy-repo", "", "the deploy repository: https URL, ssh URL, file:// URL or path (default $DATASURFACE_DEPLOY_REPO)")
	f.StringVar(&branch, "branch", "main", "the deploy repository's branch to publish to (created when absent)")
	f.BoolVar(&force, "force", false, "publish over commits publish did not make (overwriting them) and over a newer published model")
	f.StringVar(&suffix, "message-suffix", "", `text appended to the commit's subject line, e.g. "[skip ci]"`)
	f.StringArrayVar(&keep, "keep", nil, "another human-maintained path publish never touches (repeatable; a trailing / keeps a folder)")
	f.StringVar(&templatesDir, "templates", "", "a folder of templates overriding the embedded ones by file name")
	f.BoolVarP(&quiet, "quiet", "q", false, "print no progress on stderr (warnings and errors still are)")
	f.BoolVar(&list, "list", false, "also print a line per file added, changed or removed on stdout")
	lim.register(cmd)
	return cmd
}

func printPublish(cmd *cobra.Command, res *publish.Result, m *model.Model, list bool) {
	w, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	if res.Commit == "" {
		fmt.Fprintln(w, res.Nothing)
		return
	}
	if n := len(res.Overwritten) + res.OverwrittenMore; n > 0 {
		fmt.Fprintf(stderr, "warning: --force: published over %d commit(s) on %s that publish did not make, overwriting their changes to generated files:\n", n, res.Branch)
		for _, c := range res.Overwritten {
			fmt.Fprintln(stderr, "  "+c.String())
		}
		if res.OverwrittenMore > 0 {
			fmt.Fprintf(stderr, "  ... and %d more\n", res.OverwrittenMore)
		}
	}
	if res.Retried {
		fmt.Fprintf(stderr, "the branch moved while publishing; the commit was made again on %s\n", publishShort(res.Parent))
	}
	if list {
		listChanges(w, res.Added, res.Changed, res.Removed)
	}
	what := "a folder"
	if m.Commit != "" {
		what = "model " + publishShort(m.Commit)
	}
	created := ""
	if res.Created {
		created = " (new branch)"
	}
	fmt.Fprintf(w, "published %s to %s branch %s%s: %d added, %d changed, %d removed, %d unchanged\n",
		what, res.Repo, res.Branch, created, len(res.Added), len(res.Changed), len(res.Removed), res.Unchanged)
	fmt.Fprintln(w, "commit", res.Commit)
}

func publishShort(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}
