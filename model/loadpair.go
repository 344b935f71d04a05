package model

import (
	"bytes"
	"context"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
	return LoadPairWith(ctx, base, head, DefaultLimits)
}

// LoadPairWith is LoadPair within the given limits, which apply to each side.
func LoadPairWith(ctx context.Context, base, head Source, lim Limits) (b, h *Model, baseErrs, headErrs []*LoadError, err error) {
	defer closeSource(base)
	defer closeSource(head)
	headNames, headRefused, err := listSource(ctx, head)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	baseNames, baseRefused, err := listSource(ctx, base)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	h, headErrs, headHashes, err := load(ctx, head, headNames, headRefused, lim, true)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	changed, ecosystem, err := changedZones(base, hashed{head, headHashes}, baseNames, headNames)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if ecosystem {
		b, baseErrs, _, err = load(ctx, base, baseNames, baseRefused, lim, false)
		return b, h, baseErrs, headErrs, err
	}
	var subset []string
	for _, n := range baseNames {
		if _, zone, _, ok := classify(n); ok && changed[zone] {
			subset = append(subset, n)
		}
	}
	// The base's refused entries in the zones it reads, and at its root,
	// are reported as a full load would.
	var refused []*LoadError
	for _, e := range baseRefused {
		if z, ok := refusedZone(base, e); !ok || changed[z] {
			refused = append(refused, e)
		}
	}
	part, baseErrs, _, err := load(ctx, base, subset, refused, lim, false)
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

// refusedZone names the zone a refused entry is in; ok is false for an
// entry outside zones/<zone>/ (ecosystem.yaml, zones).
func refusedZone(src Source, e *LoadError) (string, bool) {
	prefix := src.Display("zones") + "/"
	rest, ok := strings.CutPrefix(e.Pos.File, prefix)
	if !ok {
		return "", false
	}
	zone, _, _ := strings.Cut(rest, "/")
	return zone, true
}

// hashed is a source whose model files' hashes are known (computed as they
// were parsed); other files hash as the source does, if it can.
type hashed struct {
	Source
	hashes map[string]string
}

func (h hashed) FileHash(name string) (string, bool) {
	if v, ok := h.hashes[name]; ok {
		return v, true
	}
	if hs, ok := h.Source.(hashedSource); ok {
		return hs.FileHash(name)
	}
	return "", false
}

func zoneOf(name string) string {
	rest := name[len("zones/"):]
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		return rest[:i]
	}
	return ""
}

// changedZones compares the two file lists: a zone changed when any file
// under zones/<zone>/ was added, removed or edited; ecosystem reports
// whether ecosystem.yaml differs. Files present on both sides compare by
// hash (git blob hashes, which folders compute) on every core, or by
// content when a source cannot hash.
func changedZones(base, head Source, baseNames, headNames []string) (map[string]bool, bool, error) {
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
	var both []string
	for _, n := range headNames {
		if !inBase[n] {
			mark(n)
			continue
		}
		delete(inBase, n)
		if isYAMLish(n) {
			both = append(both, n)
		}
	}
	for n := range inBase { // in the base only
		mark(n)
	}
	differs := make([]bool, len(both))
	errs := make([]error, len(both))
	bh, bHashed := base.(hashedSource)
	hh, hHashed := head.(hashedSource)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(both) {
					return
				}
				n := both[i]
				if bHashed && hHashed {
					x, ok1 := bh.FileHash(n)
					y, ok2 := hh.FileHash(n)
					differs[i] = !ok1 || !ok2 || x != y
					continue
				}
				x, err := base.ReadFile(n)
				if err == nil {
					var y []byte
					y, err = head.ReadFile(n)
					differs[i] = !bytes.Equal(x, y)
				}
				errs[i] = err
			}
		}()
	}
	wg.Wait()
	for i, n := range both {
		if errs[i] != nil {
			return nil, false, errs[i]
		}
		if differs[i] {
			mark(n)
		}
	}
	return changed, ecosystem, nil
}
