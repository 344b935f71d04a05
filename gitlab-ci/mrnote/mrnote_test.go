package mrnote

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/datasurface/datasurface/gitlab-ci/mrnote/gitlabtest"
)

var (
	bot   = gitlabtest.User{ID: 7, Username: "project_42_bot"}
	alice = gitlabtest.User{ID: 11, Username: "alice"}
)

const (
	botToken = "glpat-bot-token"
	projID   = 42
	projPath = "acme/model"
	mrIID    = 5
)

func newFixture(t *testing.T) *gitlabtest.Server {
	t.Helper()
	f := gitlabtest.New()
	t.Cleanup(f.Close)
	f.AddProject(projID, projPath)
	f.AddToken(botToken, bot)
	f.AddToken("glpat-alice", alice)
	return f
}

func cfgFor(f *gitlabtest.Server, project string) Config {
	return Config{
		BaseURL:      f.APIURL(),
		Token:        botToken,
		Project:      project,
		MR:           mrIID,
		ArtifactsURL: "https://gitlab.example.com/acme/model/-/jobs/99/artifacts/browse",
	}
}

func TestUpsertCreatesThenUpdatesInPlace(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	cfg := cfgFor(f, "42")

	id1, created, err := Upsert(ctx, cfg, "## Check\n\nall good\n")
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("first run: created = false, want true")
	}
	notes := f.Notes(projID, mrIID)
	if len(notes) != 1 || notes[0].ID != int64(id1) {
		t.Fatalf("after first run: notes = %+v, want one note with id %d", notes, id1)
	}
	if !strings.HasPrefix(notes[0].Body, Marker+"\n") || !strings.Contains(notes[0].Body, "all good") {
		t.Fatalf("note body = %q, want the marker on top of the report", notes[0].Body)
	}
	if notes[0].Author.ID != bot.ID {
		t.Fatalf("note author = %+v, want the bot", notes[0].Author)
	}

	id2, created, err := Upsert(ctx, cfg, "## Check\n\n1 problem\n")
	if err != nil {
		t.Fatal(err)
	}
	if created || id2 != id1 {
		t.Fatalf("second run: id=%d created=%v, want id=%d created=false", id2, created, id1)
	}
	notes = f.Notes(projID, mrIID)
	if len(notes) != 1 || !strings.Contains(notes[0].Body, "1 problem") || strings.Contains(notes[0].Body, "all good") {
		t.Fatalf("after second run: notes = %+v, want the one note updated", notes)
	}
	if got := f.Count("PUT"); got != 1 {
		t.Fatalf("PUT requests = %d, want 1", got)
	}
	if got := f.Count("POST"); got != 1 {
		t.Fatalf("POST requests = %d, want 1", got)
	}

	// Same report again: nothing to change, so no write at all. A body that
	// already carries the marker is not given a second one.
	id3, created, err := Upsert(ctx, cfg, Marker+"\n## Check\n\n1 problem\n")
	if err != nil {
		t.Fatal(err)
	}
	if created || id3 != id1 || f.Count("PUT") != 1 || f.Count("POST") != 1 {
		t.Fatalf("third run: id=%d created=%v PUT=%d POST=%d, want no write", id3, created, f.Count("PUT"), f.Count("POST"))
	}
	if got := strings.Count(f.Notes(projID, mrIID)[0].Body, Marker); got != 1 {
		t.Fatalf("marker appears %d times, want 1", got)
	}
}

func TestUpsertFindsNoteOnThirdPage(t *testing.T) {
	f := newFixture(t)
	// 250 other notes first: a mix of human comments, system notes, and bot
	// notes without the marker (e.g. from another tool using the same token).
	for i := range 250 {
		switch i % 3 {
		case 0:
			f.Seed(projID, mrIID, alice, fmt.Sprintf("review comment %d", i), false)
		case 1:
			f.Seed(projID, mrIID, alice, fmt.Sprintf("added %d commits", i), true)
		default:
			f.Seed(projID, mrIID, bot, fmt.Sprintf("unrelated bot note %d", i), false)
		}
	}
	ours := f.Seed(projID, mrIID, bot, Marker+"\nold report\n", false) // the 251st: page 3
	f.Seed(projID, mrIID, alice, "a later comment", false)             // not the last note, either

	// Project given as a path: the client must send it URL-encoded.
	id, created, err := Upsert(context.Background(), cfgFor(f, projPath), "new report\n")
	if err != nil {
		t.Fatal(err)
	}
	if created || id != int(ours.ID) {
		t.Fatalf("id=%d created=%v, want the existing note %d updated", id, created, ours.ID)
	}
	notes := f.Notes(projID, mrIID)
	if len(notes) != 252 {
		t.Fatalf("notes = %d, want 252 (no new note)", len(notes))
	}
	for _, n := range notes {
		if n.ID == ours.ID && !strings.Contains(n.Body, "new report") {
			t.Fatalf("our note body = %q, want the new report", n.Body)
		}
	}

	var pages []string
	for _, r := range f.Requests() {
		if r.Method != "GET" || !strings.HasSuffix(r.Path, "/notes") {
			continue
		}
		if r.Path != "/api/v4/projects/acme%2Fmodel/merge_requests/5/notes" {
			t.Errorf("list path = %q, want the URL-encoded project path", r.Path)
		}
		if r.Query.Get("per_page") != "100" {
			t.Errorf("per_page = %q, want 100", r.Query.Get("per_page"))
		}
		pages = append(pages, r.Query.Get("page"))
	}
	if strings.Join(pages, ",") != "1,2,3" {
		t.Fatalf("pages listed = %v, want 1,2,3", pages)
	}
}

func TestUpsertPaginatesWithoutHeaders(t *testing.T) {
	f := newFixture(t)
	f.StripPagination(true)
	for i := range 230 {
		f.Seed(projID, mrIID, alice, fmt.Sprintf("comment %d", i), false)
	}
	ours := f.Seed(projID, mrIID, bot, Marker+"\nold\n", false)

	id, created, err := Upsert(context.Background(), cfgFor(f, "42"), "new\n")
	if err != nil {
		t.Fatal(err)
	}
	if created || id != int(ours.ID) {
		t.Fatalf("id=%d created=%v, want note %d updated", id, created, ours.ID)
	}
}

func TestUpsertLeavesOtherUsersMarkerNoteAlone(t *testing.T) {
	f := newFixture(t)
	// Alice quoted the bot's note, marker included.
	theirs := f.Seed(projID, mrIID, alice, "> "+Marker+"\n> quoted report\n\nwhy does this fail?", false)
	// A system note mentioning the marker is not ours either.
	f.Seed(projID, mrIID, bot, "changed the description "+Marker, true)

	id, created, err := Upsert(context.Background(), cfgFor(f, "42"), "report\n")
	if err != nil {
		t.Fatal(err)
	}
	if !created || id == int(theirs.ID) {
		t.Fatalf("id=%d created=%v, want a new note of our own", id, created)
	}
	if f.Count("PUT") != 0 {
		t.Fatalf("PUT requests = %d, want none", f.Count("PUT"))
	}
	for _, n := range f.Notes(projID, mrIID) {
		if n.ID == theirs.ID && n.Body != theirs.Body {
			t.Fatalf("alice's note was changed to %q", n.Body)
		}
	}
}

func TestUpsertTruncatesOversizedReport(t *testing.T) {
	f := newFixture(t)
	var b strings.Builder
	b.WriteString("## Check report\n\n<details><summary>Diff</summary>\n\n```diff\n")
	for i := 0; b.Len() < 1_200_000; i++ {
		fmt.Fprintf(&b, "+ row %d: données modifiées — ✓\n", i) // multi-byte on purpose
	}
	b.WriteString("```\n\n</details>\n\nSummary: 1 problem\n")
	report := b.String()

	cfg := cfgFor(f, "42")
	id, created, err := Upsert(context.Background(), cfg, report)
	if err != nil {
		t.Fatal(err) // the fake refuses bodies over 1,000,000 characters
	}
	if !created {
		t.Fatal("created = false, want true")
	}
	notes := f.Notes(projID, mrIID)
	if len(notes) != 1 || notes[0].ID != int64(id) {
		t.Fatalf("notes = %d, want 1", len(notes))
	}
	body := notes[0].Body
	if len(body) > NoteBodyLimit || utf8.RuneCountInString(body) > NoteBodyLimit {
		t.Fatalf("posted body: %d bytes, %d characters; limit %d", len(body), utf8.RuneCountInString(body), NoteBodyLimit)
	}
	if !strings.HasPrefix(body, Marker+"\n") {
		t.Fatal("truncated body lost the marker")
	}
	if !strings.Contains(body, cfg.ArtifactsURL) || !strings.Contains(body, "Report truncated") {
		t.Fatal("truncated body has no pointer to the full report")
	}
	checkBalanced(t, body)
}

func TestUpsertUnauthorized(t *testing.T) {
	f := newFixture(t)
	cfg := cfgFor(f, "42")
	cfg.Token = "glpat-revoked"
	_, _, err := Upsert(context.Background(), cfg, "report")
	if err == nil {
		t.Fatal("want an error for a rejected token")
	}
	for _, want := range []string{"401", TokenEnv} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	if f.Count("POST")+f.Count("PUT") != 0 {
		t.Fatal("wrote with a rejected token")
	}
}

func TestUpsertIncompleteConfig(t *testing.T) {
	_, _, err := Upsert(context.Background(), Config{BaseURL: "https://gitlab.example.com/api/v4"}, "x")
	if err == nil || !strings.Contains(err.Error(), "Token") || !strings.Contains(err.Error(), "MR") {
		t.Fatalf("err = %v, want the missing fields named", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	full := map[string]string{
		"CI_API_V4_URL":               "https://gitlab.example.com/api/v4",
		"CI_MERGE_REQUEST_PROJECT_ID": "42",
		"CI_PROJECT_ID":               "43",
		"CI_MERGE_REQUEST_IID":        "5",
		TokenEnv:                      "glpat-x",
		"CI_JOB_URL":                  "https://gitlab.example.com/acme/model/-/jobs/99",
	}
	without := func(keys ...string) map[string]string {
		m := map[string]string{}
		for k, v := range full {
			m[k] = v
		}
		for _, k := range keys {
			delete(m, k)
		}
		return m
	}

	tests := []struct {
		name    string
		env     map[string]string
		want    Config
		wantErr []string // substrings; nil means no error
		notErr  []string
	}{
		{
			name: "merge request pipeline",
			env:  full,
			want: Config{BaseURL: "https://gitlab.example.com/api/v4", Token: "glpat-x", Project: "42", MR: 5,
				ArtifactsURL: "https://gitlab.example.com/acme/model/-/jobs/99/artifacts/browse"},
		},
		{
			name: "falls back to CI_PROJECT_ID, no job URL",
			env:  without("CI_MERGE_REQUEST_PROJECT_ID", "CI_JOB_URL"),
			want: Config{BaseURL: "https://gitlab.example.com/api/v4", Token: "glpat-x", Project: "43", MR: 5},
		},
		{
			name:    "nothing set",
			env:     map[string]string{},
			wantErr: []string{"CI_API_V4_URL", "CI_MERGE_REQUEST_PROJECT_ID", "CI_PROJECT_ID", "CI_MERGE_REQUEST_IID", TokenEnv},
		},
		{
			name:    "branch pipeline without MR",
			env:     without("CI_MERGE_REQUEST_IID"),
			wantErr: []string{"CI_MERGE_REQUEST_IID", "merge_request_event"},
			notErr:  []string{"CI_API_V4_URL", TokenEnv},
		},
		{
			name:    "token missing",
			env:     without(TokenEnv),
			wantErr: []string{TokenEnv, "api scope", "CI_JOB_TOKEN"},
			notErr:  []string{"CI_MERGE_REQUEST_IID"},
		},
		{
			name:    "bad IID",
			env:     map[string]string{"CI_API_V4_URL": "u", "CI_PROJECT_ID": "1", TokenEnv: "t", "CI_MERGE_REQUEST_IID": "abc"},
			wantErr: []string{`CI_MERGE_REQUEST_IID="abc"`},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := configFromLookup(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
			if tc.wantErr == nil {
				if err != nil {
					t.Fatal(err)
				}
				if got != tc.want {
					t.Fatalf("got %+v\nwant %+v", got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("want an error, got %+v", got)
			}
			for _, s := range tc.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			for _, s := range tc.notErr {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error %q mentions %q, which is set", err, s)
				}
			}
		})
	}
}

// TestConfigFromEnvReadsProcessEnv checks the real entry point, where an
// empty variable counts as missing.
func TestConfigFromEnvReadsProcessEnv(t *testing.T) {
	t.Setenv("CI_API_V4_URL", "https://gitlab.example.com/api/v4")
	t.Setenv("CI_MERGE_REQUEST_PROJECT_ID", "")
	t.Setenv("CI_PROJECT_ID", "")
	t.Setenv("CI_MERGE_REQUEST_IID", "5")
	t.Setenv(TokenEnv, "")
	_, err := ConfigFromEnv()
	if err == nil || !strings.Contains(err.Error(), TokenEnv) || !strings.Contains(err.Error(), "CI_PROJECT_ID") {
		t.Fatalf("err = %v, want the empty variables named", err)
	}
}

func TestUpsertScansEveryPageBeforeCreating(t *testing.T) {
	f := newFixture(t)
	for i := range 200 { // exactly two full pages
		f.Seed(projID, mrIID, alice, fmt.Sprintf("comment %d", i), false)
	}
	_, created, err := Upsert(context.Background(), cfgFor(f, "42"), "report\n")
	if err != nil {
		t.Fatal(err)
	}
	if !created {
		t.Fatal("created = false, want true")
	}
	var pages []string
	for _, r := range f.Requests() {
		if r.Method == "GET" && strings.HasSuffix(r.Path, "/notes") {
			pages = append(pages, r.Query.Get("page"))
		}
	}
	// X-Next-Page is empty on page 2, so there is no request for page 3.
	if strings.Join(pages, ",") != "1,2" {
		t.Fatalf("pages listed = %v, want 1,2", pages)
	}
}
