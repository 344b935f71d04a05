package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/deploy/connect"
	"github.com/datasurface/datasurface/deploy/connect/connecttest"
)

const goldenTree = "../../golden/customer-cdc"

// runDeployCLI runs a command line as run does, on the CLI's root with the
// command made by newCmd added when main.go does not register it yet.
func runDeployCLI(t *testing.T, newCmd func() *cobra.Command, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	root := newRoot()
	sub := newCmd()
	if found, _, err := root.Find([]string{sub.Name()}); err != nil || found == root {
		root.AddCommand(sub)
	}
	var out, errb bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	err := root.ExecuteContext(context.Background())
	code = exitOK
	if err != nil {
		code = exitUnread
		var ee *exitError
		if errors.As(err, &ee) {
			code = ee.code
			err = ee.err
		}
		if err != nil {
			fmt.Fprintln(&errb, "datasurface:", err)
		}
	}
	return code, out.String(), errb.String()
}

func connectCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	return runDeployCLI(t, newConnectCmd, append([]string{"connect", "apply"}, args...)...)
}

func TestConnectApplyCommand(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	s.Set("ops.audit.sink", map[string]string{"name": "ops.audit.sink", "connector.class": "x.Sink"})

	code, out, errOut := connectCLI(t, goldenTree, "--url", s.URL, "--dry-run")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "create    lakehouse.customer_db.s3-sink\ncreate    lakehouse.customer_db.source\n"+
		"dry run, nothing changed: 2 to create, 0 to update, 0 unchanged, 0 to delete, 0 conflicts\n", out)
	assert.Empty(t, s.Mutations())

	code, out, errOut = connectCLI(t, goldenTree, "--url", s.URL+"/")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, "create    lakehouse.customer_db.s3-sink\ncreate    lakehouse.customer_db.source\n"+
		"2 created, 0 updated, 0 unchanged, 0 deleted, 0 failed\n", out)
	assert.Len(t, s.Connectors(), 3)

	code, out, _ = connectCLI(t, goldenTree+"/platforms/lakehouse/connect", "--url", s.URL)
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "0 created, 0 updated, 2 unchanged, 0 deleted, 0 failed\n")
	assert.Contains(t, s.Connectors(), "ops.audit.sink")
}

func TestConnectApplyCommandFailure(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	dir := writeFiles(t, map[string]string{
		"MANIFEST.json":                     "{}",
		"platforms/p/connect/good.json":     `{"name": "p.good", "config": {"connector.class": "x.Source", "datasurface.managed": "true"}}`,
		"platforms/p/connect/noclass.json":  `{"name": "p.noclass", "config": {"tasks.max": "1", "datasurface.managed": "true"}}`,
		"platforms/p/connect/another.json":  `{"name": "p.another", "config": {"connector.class": "x.Sink", "datasurface.managed": "true"}}`,
		"platforms/p/connect/README.txt":    "not json, not read",
		"platforms/p/trino/ignored.sql":     "SELECT 1",
		"platforms/p/connect/sub/deep.json": "not read either: only connect/*.json",
	})
	code, out, errOut := connectCLI(t, dir, "--url", s.URL)
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, out, "failed    p.noclass\n")
	assert.Contains(t, out, "2 created, 0 updated, 0 unchanged, 0 deleted, 1 failed\n")
	assert.Contains(t, errOut, "error: p.noclass: create failed: PUT /connectors/p.noclass/config: HTTP 400: Connector config ")
	assert.Contains(t, errOut, "datasurface: connect apply: 1 of 3 connectors failed\n")
	assert.Equal(t, []string{"p.another", "p.good"}, slices.Sorted(maps.Keys(s.Connectors())))
}

func TestConnectApplyCommandExitCodes(t *testing.T) {
	t.Parallel()
	s := connecttest.New(t)
	for _, c := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no url", []string{goldenTree}, exitUnread, "--url is required"},
		{"bad url", []string{goldenTree, "--url", "connect:8083"}, exitUnread, "want http://HOST:PORT"},
		{"no dir", []string{"--url", s.URL}, exitUnread, "accepts 1 arg(s)"},
		{"missing dir", []string{goldenTree + "/nope", "--url", s.URL}, exitUnread, "no such file or directory"},
		{"not a deploy tree", []string{"../../examples", "--url", s.URL}, exitUnread, "is this a deploy tree?"},
		{"unreachable", []string{goldenTree, "--url", "http://127.0.0.1:1"}, exitProblems, "connect apply: listing Kafka Connect's connectors: GET /connectors?expand=info: "},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, _, errOut := connectCLI(t, c.args...)
			assert.Equal(t, c.code, code, errOut)
			assert.Contains(t, errOut, c.want)
		})
	}
	assert.Empty(t, s.Mutations())
}

// Not parallel: it sets the environment.
func TestConnectApplyCommandBasicAuth(t *testing.T) {
	s := connecttest.New(t)
	s.User, s.Password = "deployer", "s3cret"
	code, _, errOut := connectCLI(t, goldenTree, "--url", s.URL)
	assert.Equal(t, exitProblems, code)
	assert.Contains(t, errOut, "HTTP 401")

	t.Setenv("DATASURFACE_CONNECT_USER", "deployer")
	t.Setenv("DATASURFACE_CONNECT_PASSWORD", "s3cret")
	code, out, errOut := connectCLI(t, goldenTree, "--url", s.URL)
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "2 created")
	assert.True(t, connect.Managed(s.Connectors()["lakehouse.customer_db.source"]))
	assert.False(t, strings.Contains(out+errOut, "s3cret"))
}
