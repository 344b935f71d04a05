// Package mrnote posts the merge-request check report to GitLab as a single
// note per merge request: created on the first pipeline, then updated in
// place by every later one, so the MR does not fill up with one comment per
// push.
//
// The note is recognised by Marker, a hidden HTML comment at the top of the
// body, together with its author: only a note written by the user behind the
// token is ever edited.
package mrnote

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"

	gitlab "gitlab.com/gitlab-org/api/client-go"
)

// Marker is the hidden HTML comment at the top of every report note; Upsert
// finds its earlier note by it. Markdown renders nothing for it.
const Marker = "<!-- datasurface:check -->"

// TokenEnv is the environment variable holding the GitLab API token.
const TokenEnv = "DATASURFACE_GITLAB_TOKEN"

// perPage is the page size used to list notes: the maximum GitLab's REST API
// accepts for offset pagination (per_page, default 20, max 100).
const perPage = 100

// Config says where to post and with which credentials.
type Config struct {
	// BaseURL is the GitLab API v4 root, e.g. https://gitlab.example.com/api/v4
	// (CI_API_V4_URL). A bare instance URL works too: the client appends
	// /api/v4 when it is missing.
	BaseURL string
	// Token is a GitLab access token with the api scope, sent as PRIVATE-TOKEN.
	Token string
	// Project is the numeric project ID or its full path ("acme/model");
	// paths are URL-encoded by the client.
	Project string
	// MR is the merge request's IID (its number within the project), not its
	// global ID.
	MR int
	// ArtifactsURL is where the full report can be read when the note had to
	// be truncated (optional).
	ArtifactsURL string
}

// ConfigFromEnv builds a Config from GitLab CI's predefined variables of a
// merge request pipeline:
//
//   - CI_API_V4_URL: the GitLab API v4 root URL → BaseURL;
//   - CI_MERGE_REQUEST_PROJECT_ID: the project the merge request belongs to
//     (for a merge request from a fork, the target project, which is where
//     its notes live), falling back to CI_PROJECT_ID → Project;
//   - CI_MERGE_REQUEST_IID: the merge request's project-scoped IID → MR. It
//     is only set in merge request pipelines
//     (rules: - if: $CI_PIPELINE_SOURCE == "merge_request_event");
//   - CI_JOB_URL: the job's web page; ArtifactsURL is CI_JOB_URL +
//     "/artifacts/browse", the job-artifact browser (optional: left empty
//     when CI_JOB_URL is unset).
//
// The token comes from DATASURFACE_GITLAB_TOKEN, which the project must
// define as a masked CI/CD variable holding a project access token (or a
// bot user's personal access token) with the api scope. CI_JOB_TOKEN cannot
// be used: a CI/CD job token may call only the short, documented list of
// endpoints in "GitLab CI/CD job token › Job token access" (container and
// package registries, artifacts, releases, deployments, a few read-only
// repository endpoints, …), and the Notes and Merge requests APIs are not on
// it, so creating or editing a merge request note with it is refused (see
// gitlab-org/gitlab#464591 "CI_JOB_TOKEN should be allowed to comment on
// merge requests" and #545150).
//
// Every required variable that is missing is named in the error.
func ConfigFromEnv() (Config, error) {
	return configFromLookup(os.LookupEnv)
}

func configFromLookup(lookup func(string) (string, bool)) (Config, error) {
	get := func(name string) string {
		v, _ := lookup(name)
		return strings.TrimSpace(v)
	}
	var cfg Config
	var missing []string
	var problems []string

	if cfg.BaseURL = get("CI_API_V4_URL"); cfg.BaseURL == "" {
		missing = append(missing, "CI_API_V4_URL")
	}
	cfg.Project = get("CI_MERGE_REQUEST_PROJECT_ID")
	if cfg.Project == "" {
		cfg.Project = get("CI_PROJECT_ID")
	}
	if cfg.Project == "" {
		missing = append(missing, "CI_MERGE_REQUEST_PROJECT_ID (or CI_PROJECT_ID)")
	}
	if iid := get("CI_MERGE_REQUEST_IID"); iid == "" {
		missing = append(missing, `CI_MERGE_REQUEST_IID (set only in merge request pipelines: rules: - if: $CI_PIPELINE_SOURCE == "merge_request_event")`)
	} else if n, err := strconv.Atoi(iid); err != nil || n <= 0 {
		problems = append(problems, fmt.Sprintf("CI_MERGE_REQUEST_IID=%q is not a positive integer", iid))
	} else {
		cfg.MR = n
	}
	if cfg.Token = get(TokenEnv); cfg.Token == "" {
		missing = append(missing, TokenEnv+" (a project access token with the api scope, stored as a masked CI/CD variable; CI_JOB_TOKEN cannot write merge request notes)")
	}
	if u := get("CI_JOB_URL"); u != "" {
		cfg.ArtifactsURL = strings.TrimRight(u, "/") + "/artifacts/browse"
	}

	if len(missing) > 0 {
		problems = append([]string{"missing environment variable(s): " + strings.Join(missing, "; ")}, problems...)
	}
	if len(problems) > 0 {
		return cfg, errors.New("mrnote: " + strings.Join(problems, "; "))
	}
	return cfg, nil
}

func (c Config) validate() error {
	var missing []string
	if c.BaseURL == "" {
		missing = append(missing, "BaseURL")
	}
	if c.Token == "" {
		missing = append(missing, "Token")
	}
	if c.Project == "" {
		missing = append(missing, "Project")
	}
	if c.MR <= 0 {
		missing = append(missing, "MR")
	}
	if len(missing) > 0 {
		return fmt.Errorf("mrnote: incomplete Config, missing %s", strings.Join(missing, ", "))
	}
	return nil
}

// Upsert posts body as the report note of the merge request cfg.MR.
//
// Marker is prepended to body when body does not already start with it, and
// the result is passed through Fit(…, NoteBodyLimit, cfg.ArtifactsURL). Then
// the merge request's notes are listed, every page of them (per_page=100,
// oldest first), looking for the oldest non-system note that contains Marker
// and was written by the token's own user (GET /user). That note is updated
// (PUT) when its body differs; when there is none a new note is created
// (POST). Notes by anyone else are never touched, even if they quote Marker.
//
// It returns the note's ID and whether it was created. A 401 is reported as
// a rejected DATASURFACE_GITLAB_TOKEN, a 403 as a token without the rights
// to comment.
func Upsert(ctx context.Context, cfg Config, body string) (noteID int, created bool, err error) {
	if err := cfg.validate(); err != nil {
		return 0, false, err
	}
	if !strings.HasPrefix(body, Marker) {
		body = Marker + "\n" + body
	}
	body = Fit(body, NoteBodyLimit, cfg.ArtifactsURL)

	client, err := gitlab.NewClient(cfg.Token, gitlab.WithBaseURL(cfg.BaseURL))
	if err != nil {
		return 0, false, fmt.Errorf("mrnote: creating GitLab client for %s: %w", cfg.BaseURL, err)
	}
	withCtx := gitlab.WithContext(ctx)
	mr := int64(cfg.MR)

	me, _, err := client.Users.CurrentUser(withCtx)
	if err != nil {
		return 0, false, explain("identifying the token's user (GET /user)", err)
	}

	existing, err := findNote(client, cfg.Project, mr, me.ID, withCtx)
	if err != nil {
		return 0, false, err
	}

	if existing != nil {
		if existing.Body == body {
			return int(existing.ID), false, nil
		}
		n, _, err := client.Notes.UpdateMergeRequestNote(cfg.Project, mr, existing.ID,
			&gitlab.UpdateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, withCtx)
		if err != nil {
			return int(existing.ID), false, explain(fmt.Sprintf("updating note %d on merge request !%d", existing.ID, cfg.MR), err)
		}
		return int(n.ID), false, nil
	}

	n, _, err := client.Notes.CreateMergeRequestNote(cfg.Project, mr,
		&gitlab.CreateMergeRequestNoteOptions{Body: gitlab.Ptr(body)}, withCtx)
	if err != nil {
		return 0, false, explain(fmt.Sprintf("creating a note on merge request !%d", cfg.MR), err)
	}
	return int(n.ID), true, nil
}

// findNote walks every page of the merge request's notes, oldest first, and
// returns the first note that is ours: not a system note, written by userID,
// containing Marker.
func findNote(client *gitlab.Client, project string, mr, userID int64, opts ...gitlab.RequestOptionFunc) (*gitlab.Note, error) {
	opt := &gitlab.ListMergeRequestNotesOptions{
		ListOptions: gitlab.ListOptions{PerPage: perPage, Page: 1},
		OrderBy:     gitlab.Ptr("created_at"),
		Sort:        gitlab.Ptr("asc"),
	}
	for {
		notes, resp, err := client.Notes.ListMergeRequestNotes(project, mr, opt, opts...)
		if err != nil {
			return nil, explain(fmt.Sprintf("listing notes of merge request !%d (page %d)", mr, opt.Page), err)
		}
		for _, n := range notes {
			if !n.System && n.Author.ID == userID && strings.Contains(n.Body, Marker) {
				return n, nil
			}
		}
		next := resp.NextPage
		if next == 0 && len(notes) == perPage && resp.Header.Values("X-Next-Page") == nil {
			// No pagination headers at all (a proxy stripping them?) but a
			// full page: keep going until a short or empty page.
			next = opt.Page + 1
		}
		if next <= opt.Page {
			return nil, nil
		}
		opt.Page = next
	}
}

// explain wraps err with what was being done and, for authentication and
// authorisation failures, what to fix.
func explain(doing string, err error) error {
	var er *gitlab.ErrorResponse
	if errors.As(err, &er) {
		switch {
		case er.HasStatusCode(http.StatusUnauthorized):
			return fmt.Errorf("mrnote: %s: GitLab rejected the token in %s (401 Unauthorized): check that it is set, not expired or revoked, and has the api scope: %w",
				doing, TokenEnv, err)
		case er.HasStatusCode(http.StatusForbidden):
			return fmt.Errorf("mrnote: %s: the token in %s is not allowed to do this (403 Forbidden): it needs the api scope and a role on the project that may comment on merge requests: %w",
				doing, TokenEnv, err)
		}
	}
	if errors.Is(err, gitlab.ErrNotFound) {
		return fmt.Errorf("mrnote: %s: not found (404): check the project and merge request IID, and that the token's user can see them: %w", doing, err)
	}
	return fmt.Errorf("mrnote: %s: %w", doing, err)
}
