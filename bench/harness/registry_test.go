package harness

import (
	"slices"
	"testing"
)

func nop(*B) error { return nil }

func names(vs []*Variant) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

func TestSlotIsReplacedWhateverTheOrder(t *testing.T) {
	for _, slotFirst := range []bool{true, false} {
		r := NewRegistry()
		r.AddWorkload(Workload{Name: "w", Ref: "ref"})
		slot := Variant{Workload: "w", Name: "ours", Ours: true, Missing: "not merged"}
		real := Variant{Workload: "w", Name: "ours", Ours: true, Micro: nop}
		if slotFirst {
			r.Add(slot)
			r.Add(real)
		} else {
			r.Add(real)
			r.Add(slot)
		}
		v := r.Lookup("w", "ours")
		if v == nil || v.Missing != "" || v.Micro == nil {
			t.Fatalf("slotFirst=%v: got %+v, want the real variant", slotFirst, v)
		}
		if n := len(r.Variants("w")); n != 1 {
			t.Fatalf("slotFirst=%v: %d variants, want 1", slotFirst, n)
		}
	}
}

func TestRegistryRejectsDuplicatesAndEmptyVariants(t *testing.T) {
	mustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s: no panic", name)
			}
		}()
		f()
	}
	r := NewRegistry()
	r.AddWorkload(Workload{Name: "w"})
	r.Add(Variant{Workload: "w", Name: "a", Micro: nop})
	mustPanic("duplicate variant", func() { r.Add(Variant{Workload: "w", Name: "a", Micro: nop}) })
	mustPanic("duplicate workload", func() { r.AddWorkload(Workload{Name: "w"}) })
	mustPanic("no body", func() { r.Add(Variant{Workload: "w", Name: "b"}) })
	mustPanic("no name", func() { r.Add(Variant{Workload: "w", Micro: nop}) })
}

func testRegistry() *Registry {
	r := NewRegistry()
	r.AddWorkload(Workload{Name: "spawn", Ref: "go_ref"})
	r.AddWorkload(Workload{Name: "echo", Ref: "gnet"})
	py := &Python{Script: "x", Name: "py"}
	for _, v := range []Variant{
		{Workload: "spawn", Name: "z_peer", Lang: LangGo, Micro: nop},
		{Workload: "spawn", Name: "gevent", Lang: LangPython, Python: py},
		{Workload: "spawn", Name: "ours_b", Lang: LangGo, Ours: true, Micro: nop},
		{Workload: "spawn", Name: "go_ref", Lang: LangGo, Micro: nop},
		{Workload: "spawn", Name: "ours_a", Lang: LangGo, Ours: true, Missing: "later"},
		{Workload: "spawn", Name: "a_peer", Lang: LangGo, Micro: nop},
		{Workload: "echo", Name: "gnet", Lang: LangGo, Micro: nop},
		{Workload: "echo", Name: "stdnet", Lang: LangGo, Micro: nop},
	} {
		r.Add(v)
	}
	return r
}

func TestVariantsDisplayOrder(t *testing.T) {
	got := names(testRegistry().Variants("spawn"))
	want := []string{"go_ref", "ours_a", "ours_b", "a_peer", "z_peer", "gevent"}
	if !slices.Equal(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
}

func TestFilterAndSelect(t *testing.T) {
	r := testRegistry()
	sel := func(s string) map[string][]string {
		t.Helper()
		f, err := ParseFilter(s)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, x := range r.Select(f) {
			out[x.Workload.Name] = names(x.Variants)
		}
		return out
	}
	if got := sel(""); len(got["spawn"]) != 6 || len(got["echo"]) != 2 {
		t.Errorf("empty filter selects %v", got)
	}
	if got := sel("echo"); len(got) != 1 || len(got["echo"]) != 2 {
		t.Errorf("workload filter selects %v", got)
	}
	// A variant filter pulls in the workload's reference for the ratio.
	if got := sel("spawn/ours_*"); !slices.Equal(got["spawn"], []string{"go_ref", "ours_a", "ours_b"}) || len(got) != 1 {
		t.Errorf("spawn/ours_* selects %v", got)
	}
	if got := sel("stdnet, z_peer"); !slices.Equal(got["echo"], []string{"gnet", "stdnet"}) || !slices.Equal(got["spawn"], []string{"go_ref", "z_peer"}) {
		t.Errorf("name filter selects %v", got)
	}
	if got := sel("nothing"); len(got) != 0 {
		t.Errorf("unmatched filter selects %v", got)
	}
	if _, err := ParseFilter("[bad"); err == nil {
		t.Error("a malformed glob must be an error")
	}
}

func TestEchoConfigKeyRoundTrip(t *testing.T) {
	c := EchoConfig{Conns: 1000, Size: 4096}
	if got := ParseEchoConfig(c.Key()); got != c {
		t.Fatalf("round trip %+v", got)
	}
	if got := ParseEchoConfig("junk"); got != (EchoConfig{}) {
		t.Fatalf("junk parsed as %+v", got)
	}
	if c.Label() != "1000 conns 4096 B" {
		t.Fatal(c.Label())
	}
}
