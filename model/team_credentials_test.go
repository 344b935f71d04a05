package model_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/datasurface/datasurface/model"
)

// dnsSubdomain is Kubernetes' DNS subdomain (apimachinery
// IsDNS1123Subdomain), the rule for Secret names.
var dnsSubdomain = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// airflowConnID is what Airflow accepts as a connection id
// (airflow.models.connection.RE_SANITIZE_CONN_ID, at most 250 characters).
var airflowConnID = regexp.MustCompile(`^[\w#!()\-.:/\\]{1,250}$`)

func TestRuntimeNamesSeparateRegions(t *testing.T) {
	pg := &model.Credential{Name: "postgres"}
	names := map[string]string{}
	for _, c := range []model.ScopedCredential{
		{Credential: pg},
		{Credential: pg, Zone: "retail"},
		{Credential: pg, Zone: "retail", Team: "crm"},
		{Credential: pg, Zone: "retail", Team: "orders"},
		{Credential: pg, Zone: "finance", Team: "crm"},
	} {
		require.NoError(t, c.CheckRuntimeName())
		if other, dup := names[c.RuntimeName()]; dup {
			t.Errorf("%s and %s are both %s", other, c.Region(), c.RuntimeName())
		}
		names[c.RuntimeName()] = c.Region()
		if other, dup := names[c.KubernetesSecretName()]; dup && other != c.Region() {
			t.Errorf("%s and %s are both Kubernetes secret %s", other, c.Region(), c.KubernetesSecretName())
		}
		names[c.KubernetesSecretName()] = c.Region()
	}
	assert.Equal(t, "ds__retail__crm__postgres", model.ScopedCredential{Credential: pg, Zone: "retail", Team: "crm"}.RuntimeName())
	assert.Equal(t, "ds--retail--crm--postgres", model.ScopedCredential{Credential: pg, Zone: "retail", Team: "crm"}.KubernetesSecretName())
	assert.Equal(t, "ds__retail__postgres", model.ScopedCredential{Credential: pg, Zone: "retail"}.RuntimeName())
	assert.Equal(t, "ds__postgres", model.ScopedCredential{Credential: pg}.RuntimeName())
}

// TestRuntimeNamesAreInjective renders every region and credential made of
// the names RuntimeNamePart accepts over a small alphabet (each part up to
// four characters of a, 0 and _, so that underscores meet the separators in
// every way they can) and checks that no two render the same Airflow connection id or
// Kubernetes secret name, and that every name is valid for both.
func TestRuntimeNamesAreInjective(t *testing.T) {
	var parts []string
	var grow func(prefix string)
	grow = func(prefix string) {
		if model.RuntimeNamePart(prefix) {
			parts = append(parts, prefix)
		}
		if len(prefix) == 4 {
			return
		}
		for _, c := range []string{"a", "0", "_"} {
			grow(prefix + c)
		}
	}
	grow("")
	require.Greater(t, len(parts), 10)
	seen := map[string]model.ScopedCredential{}
	seenK8s := map[string]model.ScopedCredential{}
	add := func(c model.ScopedCredential) {
		require.NoError(t, c.CheckRuntimeName(), "%+v", c)
		n, k := c.RuntimeName(), c.KubernetesSecretName()
		if o, dup := seen[n]; dup {
			t.Fatalf("%s %q and %s %q are both %s", o.Region(), o.Name, c.Region(), c.Name, n)
		}
		if o, dup := seenK8s[k]; dup {
			t.Fatalf("%s %q and %s %q are both Kubernetes secret %s", o.Region(), o.Name, c.Region(), c.Name, k)
		}
		seen[n], seenK8s[k] = c, c
		if !airflowConnID.MatchString(n) || !dnsSubdomain.MatchString(k) {
			t.Fatalf("%s: connection id %q or Kubernetes secret %q is invalid", c.Region(), n, k)
		}
	}
	// Each credential object is distinct, as declarations are.
	cred := func(name string) *model.Credential { return &model.Credential{Name: name} }
	for _, a := range parts {
		add(model.ScopedCredential{Credential: cred(a)})
		for _, b := range parts {
			add(model.ScopedCredential{Credential: cred(b), Zone: a})
			for _, c := range parts {
				add(model.ScopedCredential{Credential: cred(c), Zone: a, Team: b})
			}
		}
	}

	// The longest names still fit: 63-character parts.
	long := strings.Repeat("a", 63)
	c := model.ScopedCredential{Credential: cred(long), Zone: long, Team: long}
	require.NoError(t, c.CheckRuntimeName())
	assert.LessOrEqual(t, len(c.KubernetesSecretName()), 253)
	assert.Regexp(t, dnsSubdomain, c.KubernetesSecretName())
	assert.Regexp(t, airflowConnID, c.RuntimeName())
}

func TestRuntimeNamePart(t *testing.T) {
	for _, ok := range []string{"a", "crm", "crm_cdc", "zone_00", "a1_b2", strings.Repeat("x", 63)} {
		assert.True(t, model.RuntimeNamePart(ok), ok)
	}
	for _, bad := range []string{"", "Crm", "crm__cdc", "_crm", "crm_", "1crm", "crm-cdc", "crm.cdc", "crm cdc", "ké", strings.Repeat("x", 64)} {
		assert.False(t, model.RuntimeNamePart(bad), bad)
	}
	err := model.ScopedCredential{Credential: &model.Credential{Name: "pg"}, Zone: "Retail", Team: "crm"}.CheckRuntimeName()
	assert.ErrorContains(t, err, "zone name")
	err = model.ScopedCredential{Credential: &model.Credential{Name: "pg"}, Zone: "retail", Team: "c__rm"}.CheckRuntimeName()
	assert.ErrorContains(t, err, "team name")
	// A team credential always names its zone; one without is not rendered.
	assert.Error(t, model.ScopedCredential{Credential: &model.Credential{Name: "pg"}, Team: "crm"}.CheckRuntimeName())
}

// TestTeamCredentialResolution: a team's own credential first, then its
// zone's granted to it, then the ecosystem's granted to it (by zone or
// zone/team); anything else is not the team's, and says whose it is.
func TestTeamCredentialResolution(t *testing.T) {
	grant := func(names ...string) []model.Ref {
		var rs []model.Ref
		for _, n := range names {
			rs = append(rs, model.Ref{Name: n})
		}
		return rs
	}
	retail := &model.Zone{Name: "retail", Credentials: []model.Credential{
		{Name: "replica", GrantedTo: grant("orders")},
		{Name: "both", GrantedTo: grant("orders")},
		{Name: "zone_only"},
	}}
	finance := &model.Zone{Name: "finance"}
	orders := &model.Team{Name: "orders", Zone: retail, Credentials: []model.Credential{{Name: "own"}, {Name: "shadow"}}}
	crm := &model.Team{Name: "crm", Zone: retail}
	ledger := &model.Team{Name: "ledger", Zone: finance}
	m := &model.Model{Ecosystem: &model.Ecosystem{Credentials: []model.Credential{
		{Name: "catalog_rw"},
		{Name: "by_zone", GrantedTo: grant("retail")},
		{Name: "by_team", GrantedTo: grant("retail/orders")},
		{Name: "both", GrantedTo: grant("retail")},
		{Name: "shadow", GrantedTo: grant("retail")},
	}}, Zones: []*model.Zone{retail, finance}}

	for _, c := range []struct {
		team   *model.Team
		name   string
		region string // "" when not found
		denied []string
	}{
		{orders, "own", "team retail/orders", nil},
		{orders, "shadow", "team retail/orders", nil},
		{orders, "replica", "zone retail", nil},
		{orders, "both", "zone retail", nil},
		{orders, "by_zone", "the ecosystem", nil},
		{orders, "by_team", "the ecosystem", nil},
		{crm, "by_zone", "the ecosystem", nil},
		{crm, "by_team", "", []string{"the ecosystem"}},
		{crm, "replica", "", []string{"zone retail"}},
		{crm, "both", "the ecosystem", nil},
		{crm, "own", "", nil},
		{orders, "zone_only", "", []string{"zone retail"}},
		{orders, "catalog_rw", "", []string{"the ecosystem"}},
		{ledger, "by_zone", "", []string{"the ecosystem"}},
		{ledger, "replica", "", nil},
	} {
		got, ok, ungranted := m.TeamCredential(c.team, c.name)
		var denied []string
		for _, u := range ungranted {
			denied = append(denied, u.Region())
		}
		if c.region == "" {
			assert.False(t, ok, "%s/%s %s", c.team.Zone.Name, c.team.Name, c.name)
		} else if assert.True(t, ok, "%s/%s %s", c.team.Zone.Name, c.team.Name, c.name) {
			assert.Equal(t, c.region, got.Region(), "%s/%s %s", c.team.Zone.Name, c.team.Name, c.name)
			assert.Equal(t, c.name, got.Name)
		}
		assert.Equal(t, c.denied, denied, "%s/%s %s", c.team.Zone.Name, c.team.Name, c.name)
	}
	_, ok := m.EcosystemCredential("catalog_rw")
	assert.True(t, ok)
	_, ok = m.EcosystemCredential("own")
	assert.False(t, ok, "platform settings see only the ecosystem's credentials")
}
