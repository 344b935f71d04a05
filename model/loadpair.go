package model

import (
	"bytes"
	"context"
	"sort"
	"strings"
)

// hashedSource can say a file's content hash without reading it (a git
// blob hash).
type hashedSource interface {
	FileHash(name string) (string, bool)
}

// LoadPair loads two versions of a model, as a merge-request check needs
// them, reading the base only where it differs. The head is loaded whole.
// Of the base, only the zones whose files differ are parsed (all of it when
// ecosystem.yaml differs); every other zone, and the ecosystem when
// unchanged, is the head's own object. Such shared objects are the
// unchanged parts: code comparing the two models may test pointer equality
// first, and must not modify either model.
//
// Files compare by git blob hash when both sources are revisions, else by
// content.
func LoadPair(ctx context.Context, base, head Source) (b, h *Model, baseErrs, headErrs []*LoadError, err error) {
	headNames, err := head.Files(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	baseNames, err := base.Files(ctx)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	h, headErrs, err = loadFiles(ctx, head, headNames)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	changed, ecosystem, err := changedZones(base, head, baseNames, headNames)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if ecosystem {
		b, baseErrs, err = loadFiles(ctx, base, baseNames)
		return b, h, baseErrs, headErrs, err
	}
	var subset []string
	for _, n := range baseNames {
		if _, zone, _, ok := classify(n); ok && changed[zone] {
			subset = append(subset, n)
		} else if !ok && strings.HasPrefix(n, "zones/") && changed[zoneOf(n)] {
			subset = append(subset, n) // reported as a layout error, as a full load would
		}
	}
	part, baseErrs, err := loadFiles(ctx, base, subset)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	b = &Model{Source: base.Describe(), Commit: base.Commit(), Ecosystem: h.Ecosystem}
	b.Zones = append(b.Zones, part.Zones...)
	for _, z := range h.Zones {
		if !changed[z.Name] {
			b.Zones = append(b.Zones, z)
		}
	}
	sort.SliceStable(b.Zones, func(i, j int) bool { return b.Zones[i].Dir < b.Zones[j].Dir })
	// A load error of the base's ecosystem-level checks would only repeat the head's.
	filtered := baseErrs[:0]
	for _, e := range baseErrs {
		if e.Code != "load-layout" || e.Pos.File != base.Display("ecosystem.yaml") {
			filtered = append(filtered, e)
		}
	}
	return b, h, filtered, headErrs, nil
}

// loadFiles is Load over a given list of the source's files.
func loadFiles(ctx context.Context, src Source, names []string) (*Model, []*LoadError, error) {
	return Load(ctx, listed{src, names})
}

// listed is a source restricted to some of its files.
type listed struct {
	Source
	names []string
}

func (l listed) Files(context.Context) ([]string, error) { return l.names, nil }

func zoneOf(name string) string {
	rest := name[len("zones/"):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return ""
}

// changedZones compares the two file lists: a zone changed when any file
// under zones/<zone>/ was added, removed or edited; ecosystem reports
// whether ecosystem.yaml differs.
func changedZones(base, head Source, baseNames, headNames []string) (map[string]bool, bool, error) {
	bh, bHashed := base.(hashedSource)
	hh, hHashed := head.(hashedSource)
	same := func(name string) (bool, error) {
		if bHashed && hHashed {
			x, ok1 := bh.FileHash(name)
			y, ok2 := hh.FileHash(name)
			return ok1 && ok2 && x == y, nil
		}
		x, err := base.ReadFile(name)
		if err != nil {
			return false, err
		}
		y, err := head.ReadFile(name)
		if err != nil {
			return false, err
		}
		return bytes.Equal(x, y), nil
	}
	inBase := make(map[string]bool, len(baseNames))
	for _, n := range baseNames {
		inBase[n] = true
	}
	changed := map[string]bool{}
	ecosystem := false
	mark := func(n string) {
		switch {
		case n == "ecosystem.yaml":
			ecosystem = true
		case strings.HasPrefix(n, "zones/"):
			changed[zoneOf(n)] = true
		}
	}
	for _, n := range headNames {
		if !inBase[n] {
			mark(n)
			continue
		}
		delete(inBase, n)
		if !isYAMLish(n) {
			continue
		}
		if changed[zoneOf(n)] && n != "ecosystem.yaml" {
			continue // already known
		}
		ok, err := same(n)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			mark(n)
		}
	}
	for n := range inBase { // in the base only
		mark(n)
	}
	return changed, ecosystem, nil
}
